// The gateway's public HTTP API as the console uses it. Relative URLs, so the console works
// wherever the gateway is mounted. Every failure is an ApiError with the gateway's error code.

export interface Feature {
  readonly name: string;
  readonly kind: 'numeric' | 'categorical';
  readonly dtype: string;
  readonly required?: boolean;
  readonly categories?: readonly string[];
  readonly min?: number | null;
  readonly max?: number | null;
  readonly integer?: boolean;
}

export interface RiskThreshold {
  readonly category: string;
  readonly max: number;
}

export interface ModelSummary {
  readonly name: string;
  readonly active_version: string;
  readonly versions: readonly string[];
  readonly ready: boolean;
}

export interface ModelInfo extends ModelSummary {
  readonly version: string;
  readonly features: readonly Feature[];
  readonly risk_thresholds: readonly RiskThreshold[];
  readonly id_fields: readonly string[];
  readonly limits: { readonly max_instances: number; readonly max_body_bytes: number };
  readonly answer: { readonly id_field: string; readonly probability_field: string; readonly risk_field: string };
  /** Features the business cannot change for a customer (the card's fixed_features). */
  readonly fixed_features: readonly string[];
}

/** One answer of /v1/.../predict, read through the version's answer field names. */
export interface Prediction {
  readonly id: unknown;
  readonly probability: number;
  readonly risk: string | null;
  readonly version: string;
  readonly predictionId: string;
}

export function readPrediction(info: ModelInfo, raw: Record<string, unknown>): Prediction {
  return {
    id: raw[info.answer.id_field] ?? null,
    probability: raw[info.answer.probability_field] as number,
    risk: (raw[info.answer.risk_field] as string | undefined) ?? null,
    version: String(raw.model_version),
    predictionId: String(raw.prediction_id),
  };
}

/** One bad field of one record, as the gateway's INVALID_FEATURES answer lists it. */
export interface FieldIssue {
  readonly row: number;
  readonly field: string;
  readonly code: string;
  readonly message: string;
}

/** One second of GET /v1/live; null where nothing happened to measure. */
export interface LivePoint {
  readonly t: number;
  readonly requests_per_second: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly client_errors_per_second: number;
  readonly server_errors_per_second: number;
  readonly cache_hit_ratio: number | null;
  readonly batch_rows_mean: number | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The per-field issues of an INVALID_FEATURES answer (empty for any other error). */
  issues(): FieldIssue[] {
    const list = this.details.issues;
    return this.code === 'INVALID_FEATURES' && Array.isArray(list) ? (list as FieldIssue[]) : [];
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, 'NETWORK', `the gateway did not answer: ${(err as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, 'BAD_ANSWER', `the gateway answered ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | null)
      ?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? `HTTP ${res.status}`, e?.details);
  }
  return body as T;
}

export function getJson<T>(path: string, headers?: Record<string, string>): Promise<T> {
  return call<T>(path, { headers: { accept: 'application/json', ...headers } });
}

export function sendJson<T>(
  method: 'POST' | 'PUT' | 'DELETE',
  path: string,
  body: unknown,
  headers?: Record<string, string>,
): Promise<T> {
  return call<T>(path, {
    method,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export const listModels = (): Promise<{ models: ModelSummary[] }> => getJson('v1/models');
/** A model's active version (version ''), or the given one. */
export function modelInfo(name: string, version = ''): Promise<ModelInfo> {
  const n = encodeURIComponent(name);
  return getJson(version === '' ? `v1/models/${n}` : `v1/models/${n}/versions/${encodeURIComponent(version)}`);
}

/** Scores records in one request; the answers in the records' order. */
export async function predict(info: ModelInfo, pinned: string, records: readonly unknown[]): Promise<Prediction[]> {
  const body = await sendJson<{ predictions: Record<string, unknown>[] }>('POST', predictPath(info.name, pinned), {
    instances: records,
  });
  return body.predictions.map((p) => readPrediction(info, p));
}

/** The predict path for a model, pinned to a version when one is given. */
export function predictPath(name: string, version: string): string {
  const n = encodeURIComponent(name);
  return version === '' ? `v1/models/${n}/predict` : `v1/models/${n}/versions/${encodeURIComponent(version)}/predict`;
}
