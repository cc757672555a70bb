// `ortline pull`: a registered model version from MLflow's Model Registry into a model repository.
//   ortline pull --tracking-uri URI --model NAME (--alias A | --version N) --models-dir DIR
//                [--as NAME] [--activate [--url URL] [--token TOKEN]]
// The files land in DIR/<as>/.pull-*/ first, pass the same gate as a version the gateway loads
// (card fits the graph, parity rows reproduce, warm-up), and only then are renamed to
// DIR/<as>/<next version>/ in one step, so a gateway (or its poller) never sees half a version.
// --activate then asks a running gateway to load it and make it active.
// Exit codes: 0 done, 1 refused (the registry has no such version, the gate failed, the gateway
// said no), 2 usage, 3 the registry or the gateway could not be reached.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GateError, gateFolder, MlflowClient, MlflowError, VERSION_NAME } from '@ortline/gateway';
import { defaultConfig } from '@ortline/gateway/config';
import { AdminCallError, adminCall } from './admin-client.js';
import { subcommandArgs, usageError } from './cli-args.js';

export const PULL_USAGE = [
  'ortline pull: a model version from an MLflow Model Registry into a model repository',
  '',
  '  ortline pull --tracking-uri URI --model NAME (--alias A | --version N) --models-dir DIR',
  '               [--as NAME] [--activate [--url URL] [--token TOKEN]]',
  '',
  '  --tracking-uri   the MLflow tracking server [MLFLOW_TRACKING_URI]',
  '  --as             the model name in the repository (default: the registered name)',
  '  --activate       then load it on a running gateway and make it the active version',
  '  --url, --token   that gateway and its admin token [ORTLINE_URL, ORTLINE_ADMIN_TOKEN]',
].join('\n');

const COMMAND = { name: 'ortline pull', usage: PULL_USAGE };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** One above every version folder of the model (with or without a model in it): never reused. */
function nextVersion(modelDir: string): number {
  if (!existsSync(modelDir)) return 1;
  const taken = readdirSync(modelDir)
    .filter((v) => VERSION_NAME.test(v))
    .map(Number);
  return taken.length === 0 ? 1 : Math.max(...taken) + 1;
}

async function activate(url: string, token: string | undefined, model: string, version: string): Promise<void> {
  const path = `/admin/v1/models/${encodeURIComponent(model)}`;
  await adminCall(url, token, 'POST', `${path}/versions/${version}/load`);
  await adminCall(url, token, 'PUT', `${path}/routing`, { active: version });
}

export async function pullCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const args = subcommandArgs(COMMAND, argv, {
    'tracking-uri': { type: 'string' },
    model: { type: 'string' },
    alias: { type: 'string' },
    version: { type: 'string' },
    'models-dir': { type: 'string' },
    as: { type: 'string' },
    activate: { type: 'boolean' },
    url: { type: 'string' },
    token: { type: 'string' },
  });
  if (typeof args === 'number') return args;
  const { values } = args;
  const trackingUri = (values['tracking-uri'] as string | undefined) ?? env.MLFLOW_TRACKING_URI;
  const model = values.model as string | undefined;
  const modelsDir = values['models-dir'] as string | undefined;
  const as = (values.as as string | undefined) ?? model;
  const usage = (message: string) => usageError(COMMAND, message);
  if (!trackingUri) return usage('--tracking-uri (or MLFLOW_TRACKING_URI) is required');
  if (!model) return usage('--model is required');
  if (!modelsDir) return usage('--models-dir is required');
  if ((values.alias === undefined) === (values.version === undefined)) return usage('give one of --alias or --version');
  if (values.version !== undefined && !VERSION_NAME.test(String(values.version)))
    return usage('--version must be a positive integer');
  if (!NAME.test(as!)) return usage(`"${as}" is not a usable model name (letters, digits, "_", ".", "-"); use --as`);
  if ((values.url !== undefined || values.token !== undefined) && !values.activate)
    return usage('--url and --token go with --activate');

  const client = new MlflowClient(trackingUri);
  const modelDir = join(resolve(modelsDir), as!);
  mkdirSync(modelDir, { recursive: true });
  // A name that is not a version: scans and pollers never take it for one.
  const staging = mkdtempSync(join(modelDir, '.pull-'));
  try {
    const selector = values.alias !== undefined ? { alias: String(values.alias) } : { version: String(values.version) };
    const registered = await client.resolve(model, selector);
    const files = await client.download(registered, staging);
    for (const f of ['model.onnx', 'model.json'])
      if (!files.includes(f))
        throw new GateError(
          'load_failed',
          `registered ${model} version ${registered.version} has no ${f} (files: ${files.join(', ')})`,
        );
    const parity = await gateFolder(as!, staging, defaultConfig());
    let version = nextVersion(modelDir);
    while (existsSync(join(modelDir, String(version)))) version++;
    const target = join(modelDir, String(version));
    renameSync(staging, target);
    process.stdout.write(
      `pulled ${model} version ${registered.version}${'alias' in selector ? ` (alias ${selector.alias})` : ''} into ${target}: ` +
        (parity
          ? `gate passed (${parity.rows} parity rows, max difference ${parity.maxAbsDiff.toExponential(2)})`
          : 'gate passed (no parity.json: nothing to reproduce)') +
        '\n',
    );
    if (values.activate) {
      const url = String(values.url ?? env.ORTLINE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
      await activate(url, (values.token as string | undefined) ?? env.ORTLINE_ADMIN_TOKEN, as!, String(version));
      process.stdout.write(`activated ${as} version ${version} on ${url}\n`);
    }
    return 0;
  } catch (err) {
    if (err instanceof GateError) {
      process.stderr.write(`ortline pull: refused by the gate (${err.reason}): ${err.message}\n`);
      return 1;
    }
    if (err instanceof MlflowError || err instanceof AdminCallError) {
      const from = err instanceof AdminCallError ? 'the gateway: ' : '';
      process.stderr.write(`ortline pull: ${from}${err.message}\n`);
      return err.unreachable ? 3 : 1;
    }
    throw err;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
