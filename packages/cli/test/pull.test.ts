// `ortline pull` against a real MLflow tracking server (sqlite backend, artifacts served from a
// local folder) started on a free port: a registered version lands in the repository only after
// passing the gate, under the next free version number, and --activate routes a running gateway
// to it. The server comes from the training venv (scripts/setup-dev.sh installs it).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledChurn,
  type Child,
  churnRepository,
  freePort,
  ortlineBin,
  parity,
  repoRoot,
  startChild,
} from '../../gateway/test/helpers.js';

const venv = join(repoRoot, 'models', 'training', '.venv', 'bin');
let work: string;
let server: ChildProcess;
let tracking: string;

/** Logs `dir`'s files as a run's `model/` folder and registers it as `name`, pointing `alias` at it. */
function register(dir: string, name: string, alias: string): void {
  const script = [
    'import sys, mlflow',
    'uri, folder, name, alias = sys.argv[1:5]',
    'mlflow.set_tracking_uri(uri)',
    'with mlflow.start_run() as run:',
    '    mlflow.log_artifacts(folder, artifact_path="model")',
    'mv = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)',
    'mlflow.MlflowClient().set_registered_model_alias(name, alias, mv.version)',
  ].join('\n');
  const r = spawnSync(join(venv, 'python'), ['-c', script, tracking, dir, name, alias], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`registering ${dir} failed: ${r.stderr}`);
}

/** `ortline pull ...`, asynchronously: a gateway child's log pipe must keep draining while it runs. */
function pull(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [ortlineBin, 'pull', ...args], {
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  if (!existsSync(join(venv, 'mlflow')))
    throw new Error(`no mlflow in ${venv}: run bash scripts/setup-dev.sh (it installs the training venv)`);
  work = mkdtempSync(join(tmpdir(), 'ortline-pull-'));
  const port = await freePort();
  tracking = `http://127.0.0.1:${port}`;
  server = spawn(
    join(venv, 'mlflow'),
    [
      'server',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
      '--backend-store-uri',
      `sqlite:///${join(work, 'mlflow.db')}`,
      '--artifacts-destination',
      join(work, 'artifacts'),
    ],
    // Its own process group: `mlflow server` runs gunicorn as a child, which must stop with it.
    { cwd: work, stdio: 'ignore', detached: true },
  );
  const deadline = Date.now() + 90_000;
  for (;;) {
    const ok = await fetch(`${tracking}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || server.exitCode !== null) throw new Error('mlflow server did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
  // The LightGBM version as "champion"; a copy whose parity rows do not reproduce as "broken".
  register(join(repoRoot, 'models', 'churn', '2'), 'churn-registry', 'champion');
  const spoiled = join(work, 'spoiled');
  mkdirSync(spoiled);
  for (const f of ['model.onnx', 'model.json'])
    copyFileSync(join(repoRoot, 'models', 'churn', '2', f), join(spoiled, f));
  const p = JSON.parse(readFileSync(join(repoRoot, 'models', 'churn', '2', 'parity.json'), 'utf8'));
  p.rows[5].probability = 1 - p.rows[5].probability;
  writeFileSync(join(spoiled, 'parity.json'), JSON.stringify(p));
  register(spoiled, 'churn-registry', 'broken');
}, 180_000);

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    process.kill(-server.pid, 'SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

/** The registered LightGBM version, by its alias. */
const champion = () => ['--tracking-uri', tracking, '--model', 'churn-registry', '--alias', 'champion'];

describe('ortline pull', () => {
  it('a version by alias or number lands under the next version number, byte for byte, after the gate', async () => {
    const repo = join(work, 'repo');
    const first = await pull([...champion(), '--models-dir', repo, '--as', 'churn']);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(
      /^pulled churn-registry version 1 \(alias champion\) into .*\/churn\/1: gate passed \(300 parity rows/,
    );
    for (const f of ['model.onnx', 'model.json', 'parity.json'])
      expect(readFileSync(join(repo, 'churn', '1', f))).toEqual(
        readFileSync(join(repoRoot, 'models', 'churn', '2', f)),
      );
    const second = await pull([
      '--tracking-uri',
      tracking,
      '--model',
      'churn-registry',
      '--version',
      '1',
      '--models-dir',
      repo,
      '--as',
      'churn',
    ]);
    expect(second.code, second.err).toBe(0);
    expect(readdirSync(join(repo, 'churn')).sort()).toEqual(['1', '2']);
  });

  it('a version that fails the gate is refused and leaves nothing behind', async () => {
    const repo = join(work, 'refused');
    const r = await pull([
      '--tracking-uri',
      tracking,
      '--model',
      'churn-registry',
      '--alias',
      'broken',
      '--models-dir',
      repo,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('refused by the gate (parity_failed)');
    expect(readdirSync(join(repo, 'churn-registry'))).toEqual([]);
  });

  it('exit 1 for what the registry does not have, 3 when it cannot be reached, 2 for usage', async () => {
    const repo = join(work, 'errors');
    const missing = await pull([
      '--tracking-uri',
      tracking,
      '--model',
      'churn-registry',
      '--alias',
      'nope',
      '--models-dir',
      repo,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/alias|RESOURCE_DOES_NOT_EXIST|INVALID_PARAMETER_VALUE/);
    const down = await pull([
      '--tracking-uri',
      'http://127.0.0.1:9',
      '--model',
      'm',
      '--version',
      '1',
      '--models-dir',
      repo,
    ]);
    expect(down.code).toBe(3);
    const usage: [string[], Record<string, string>][] = [
      [['--model', 'm', '--version', '1', '--models-dir', repo], { MLFLOW_TRACKING_URI: '' }],
      [['--tracking-uri', tracking, '--model', 'm', '--alias', 'a', '--version', '1', '--models-dir', repo], {}],
      [['--tracking-uri', tracking, '--model', 'm', '--version', '01', '--models-dir', repo], {}],
      [['--tracking-uri', tracking, '--model', 'm', '--version', '1'], {}],
    ];
    for (const [args, env] of usage) expect((await pull(args, env)).code, args.join(' ')).toBe(2);
  });

  it('--activate loads the pulled version on a running gateway and makes it active', async () => {
    const { root: repo, cleanup } = churnRepository({ '1': bundledChurn('1') });
    let child: Child | undefined;
    try {
      child = await startChild(['--models-dir', repo], { ORTLINE_ADMIN_TOKEN: 'pull-token' });
      const r = await pull([
        ...champion(),
        '--models-dir',
        repo,
        '--as',
        'churn',
        '--activate',
        '--url',
        child.url,
        '--token',
        'pull-token',
      ]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain(`activated churn version 2 on ${child.url}`);
      const answer = await fetch(`${child.url}/v1/models/churn/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(parity().rows[0]!.features),
      });
      expect(((await answer.json()) as { model_version: string }).model_version).toBe('2');
      expect(JSON.parse(readFileSync(join(repo, 'churn', 'serving.json'), 'utf8'))).toMatchObject({
        active: '2',
        previous: '1',
      });
    } finally {
      child?.proc.kill('SIGTERM');
      await child?.exited;
      cleanup();
    }
  });
});
