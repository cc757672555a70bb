// `ortline models ...`: the model lifecycle admin API from a shell.
//   ortline models list                               every model: routing and version states
//   ortline models show NAME
//   ortline models load NAME VERSION                  answers once the version passed its gate
//   ortline models unload NAME VERSION                answers once drained
//   ortline models route NAME [--active V] [--canary V --weight W | --no-canary] [--shadow V | --no-shadow]
//   ortline models rollback NAME
// --url (ORTLINE_URL, default http://127.0.0.1:8080), --token (ORTLINE_ADMIN_TOKEN), --json.
// Exit codes: 0 done, 1 the gateway refused (its error code and message are printed), 2 usage,
// 3 the gateway could not be reached.
import { AdminCallError, adminCall } from './admin-client.js';
import { subcommandArgs, usageError } from './cli-args.js';

interface ModelState {
  name: string;
  routing: {
    active: string;
    previous: string | null;
    canary: { version: string; weight: number } | null;
    shadow: string | null;
  };
  versions: { version: string; state: string; reason?: string; message?: string }[];
}

export const MODELS_USAGE = [
  'ortline models list|show|load|unload|route|rollback: the admin API of a running gateway',
  '',
  '  ortline models list',
  '  ortline models show NAME',
  '  ortline models load NAME VERSION        (answers once the version passed its gate)',
  '  ortline models unload NAME VERSION      (answers once its in-flight rows are done)',
  '  ortline models route NAME [--active V] [--canary V --weight W | --no-canary] [--shadow V | --no-shadow]',
  '  ortline models rollback NAME',
  '',
  '  --url <url>      the gateway [ORTLINE_URL] default http://127.0.0.1:8080',
  '  --token <token>  its admin token [ORTLINE_ADMIN_TOKEN]',
  '  --json           print the answer as JSON',
].join('\n');

const COMMAND = { name: 'ortline models', usage: MODELS_USAGE };

class UsageError extends Error {}

/** Prints one model: routing, then each version with its state (and a failed one's reason). */
export function renderModel(m: ModelState): string {
  const r = m.routing;
  const lines = [
    `${m.name}: active ${r.active}` +
      (r.canary ? `, canary ${r.canary.version} (${Math.round(r.canary.weight * 1000) / 10} %)` : '') +
      (r.shadow ? `, shadow ${r.shadow}` : '') +
      (r.previous ? `, previous ${r.previous}` : ''),
  ];
  for (const v of m.versions)
    lines.push(`  ${v.version.padStart(4)}  ${v.state}${v.reason ? `  ${v.reason}: ${v.message ?? ''}` : ''}`);
  return lines.join('\n');
}

function routingBody(values: Record<string, string | boolean | undefined>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (typeof values.active === 'string') body.active = values.active;
  if (values['no-canary']) body.canary = null;
  else if (typeof values.canary === 'string') {
    const weight = Number(values.weight);
    if (typeof values.weight !== 'string' || !Number.isFinite(weight))
      throw new UsageError('--canary needs --weight (a number from 0 to 1)');
    body.canary = { version: values.canary, weight };
  } else if (values.weight !== undefined) throw new UsageError('--weight goes with --canary');
  if (values['no-shadow']) body.shadow = null;
  else if (typeof values.shadow === 'string') body.shadow = values.shadow;
  if (Object.keys(body).length === 0)
    throw new UsageError('route needs at least one of --active, --canary/--weight, --no-canary, --shadow, --no-shadow');
  return body;
}

export async function modelsCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = subcommandArgs(
    COMMAND,
    argv,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      active: { type: 'string' },
      canary: { type: 'string' },
      weight: { type: 'string' },
      shadow: { type: 'string' },
      'no-canary': { type: 'boolean' },
      'no-shadow': { type: 'boolean' },
    },
    true,
  );
  if (typeof args === 'number') return args;
  const { values, positionals } = args;
  const [action, name, version, ...extra] = positionals;
  if (action === undefined) return usageError(COMMAND, 'an action is required');
  const base = String(values.url ?? env.ORTLINE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = values.token ?? env.ORTLINE_ADMIN_TOKEN;
  const needs = (n: number) => {
    const got = [name, version].filter((x) => x !== undefined).length;
    if (got !== n || extra.length > 0)
      throw new UsageError(`"${action}" takes ${n === 0 ? 'no arguments' : n === 1 ? 'NAME' : 'NAME VERSION'}`);
  };
  let method = 'GET';
  let path: string;
  let body: Record<string, unknown> | undefined;
  try {
    const model = () => encodeURIComponent(name!);
    switch (action) {
      case 'list':
        needs(0);
        path = '/admin/v1/models';
        break;
      case 'show':
        needs(1);
        path = `/admin/v1/models/${model()}`;
        break;
      case 'load':
        needs(2);
        method = 'POST';
        path = `/admin/v1/models/${model()}/versions/${encodeURIComponent(version!)}/load`;
        break;
      case 'unload':
        needs(2);
        method = 'DELETE';
        path = `/admin/v1/models/${model()}/versions/${encodeURIComponent(version!)}`;
        break;
      case 'route':
        needs(1);
        method = 'PUT';
        path = `/admin/v1/models/${model()}/routing`;
        body = routingBody(values);
        break;
      case 'rollback':
        needs(1);
        method = 'POST';
        path = `/admin/v1/models/${model()}/rollback`;
        break;
      default:
        throw new UsageError(`unknown action "${action}"`);
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError(COMMAND, err.message);
  }
  let answer: unknown;
  try {
    answer = await adminCall(base, token as string | undefined, method, path, body);
  } catch (err) {
    if (!(err instanceof AdminCallError)) throw err;
    process.stderr.write(`ortline models: ${err.message}\n`);
    return err.unreachable ? 3 : 1;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
  else if (action === 'list')
    process.stdout.write(`${(answer as { models: ModelState[] }).models.map(renderModel).join('\n')}\n`);
  else process.stdout.write(`${renderModel(answer as ModelState)}\n`);
  return 0;
}
