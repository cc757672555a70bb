// A client of a running gateway's admin API, for the commands that drive one (`ortline models`,
// `ortline pull --activate`): the bearer token, JSON both ways, and the gateway's error shape.
export class AdminCallError extends Error {
  override readonly name = 'AdminCallError';
  /** The gateway's HTTP status; undefined when it could not be reached. */
  readonly status: number | undefined;
  /** The gateway's error code (`VERSION_IN_USE`, ...), when it sent one. */
  readonly code: string | undefined;
  constructor(message: string, status?: number, code?: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get unreachable(): boolean {
    return this.status === undefined;
  }
}

/** `method path` on the gateway at `base`; resolves with the JSON answer of a 200, else throws AdminCallError. */
export async function adminCall(
  base: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause?.message ?? (err as Error).message;
    throw new AdminCallError(`cannot reach ${base}: ${cause}`);
  }
  const text = await res.text();
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new AdminCallError(`${res.status} from ${base}${path}, not JSON: ${text.slice(0, 200)}`, res.status);
  }
  if (res.status !== 200) {
    const e = (answer as { error?: { code?: string; message?: string } }).error;
    throw new AdminCallError(`${res.status} ${e?.code ?? ''}: ${e?.message ?? text}`, res.status, e?.code);
  }
  return answer;
}
