// Test helpers: the real gateway on port 0, in this process or as a child process running the
// built CLI (packages/gateway/dist), and the model repository the tests serve.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Gateway, type GatewayConfigInput, startGateway } from '../src/index.js';
import { scanRepository } from '../src/registry/repository.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const packageDir = fileURLToPath(new URL('../', import.meta.url));
/** The `ortline` command (@ortline/cli), which `serve`s this package. */
export const cliDir = join(repoRoot, 'packages', 'cli');
export const ortlineBin = join(cliDir, 'bin', 'ortline.js');

/** The churn model's active version directory, by the registry's own rule (ACTIVE, else highest). */
export function churnDir(): string {
  const churn = scanRepository(join(repoRoot, 'models')).models.find((m) => m.name === 'churn');
  if (!churn) throw new Error('no churn model under models/');
  return churn.versions.find((v) => v.version === churn.routing.active)!.dir;
}

export interface ParityRow {
  customerID: string;
  features: Record<string, unknown>;
  probability: number;
}

export function parity(): { tolerance: number; rows: ParityRow[] } {
  return JSON.parse(readFileSync(join(churnDir(), 'parity.json'), 'utf8'));
}

export function card(): {
  version: unknown;
  risk_thresholds: { category: string; max: number }[];
  features: { name: string }[];
} {
  return JSON.parse(readFileSync(join(churnDir(), 'model.json'), 'utf8'));
}

/**
 * A model repository for the tests: churn twice (versions 1 and 2, both the repository's active
 * churn artifact), with ACTIVE pointing at 1, so version routing and the ACTIVE file are
 * exercised. ORTLINE_TEST_MODELS_DIR overrides it.
 */
export function testModelsDir(): { dir: string; cleanup: () => void } {
  if (process.env.ORTLINE_TEST_MODELS_DIR) return { dir: process.env.ORTLINE_TEST_MODELS_DIR, cleanup: () => {} };
  const dir = mkdtempSync(join(tmpdir(), 'ortline-models-'));
  mkdirSync(join(dir, 'churn'));
  symlinkSync(churnDir(), join(dir, 'churn', '1'));
  symlinkSync(churnDir(), join(dir, 'churn', '2'));
  writeFileSync(join(dir, 'churn', 'ACTIVE'), '1\n');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A writable model repository in a temp dir: `churn/<version>/` for each entry, with model.onnx,
 * model.json and parity.json copied from the given folder, and `churn/serving.json` when given.
 */
export function churnRepository(
  versions: Readonly<Record<string, string>>,
  serving?: unknown,
): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'ortline-repo-'));
  for (const [v, from] of Object.entries(versions)) {
    mkdirSync(join(root, 'churn', v), { recursive: true });
    for (const f of ['model.onnx', 'model.json', 'parity.json']) copyFileSync(join(from, f), join(root, 'churn', v, f));
  }
  if (serving !== undefined) writeFileSync(join(root, 'churn', 'serving.json'), JSON.stringify(serving));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** `ortline serve` as a child process over a fresh churnRepository; `stop` ends it and removes the folder. */
export async function startChildOn(
  versions: Readonly<Record<string, string>>,
  serving: unknown,
  env: Record<string, string> = {},
): Promise<{ child: Child; root: string; stop: () => Promise<void> }> {
  const { root, cleanup } = churnRepository(versions, serving);
  let child: Child;
  try {
    child = await startChild(['--models-dir', root], env);
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    child,
    root,
    stop: async () => {
      child.proc.kill('SIGTERM');
      await child.exited;
      cleanup();
    },
  };
}

/**
 * In process, the test's own client shares the gateway's event loop: a burst of requests it sends
 * makes the loop late and the gateway would shed them as overload. Tests of shedding set
 * `maxEventLoopDelayMs` themselves (pressure.test.ts).
 */
const IN_PROCESS = { host: '127.0.0.1', port: 0, maxEventLoopDelayMs: 0 } as const;

/**
 * The gateway in this process over a fresh churnRepository (`edit` may change its files first);
 * `close` stops it and removes the folder.
 */
export async function startInProcessOn(
  versions: Readonly<Record<string, string>>,
  serving: unknown,
  overrides: GatewayConfigInput = {},
  edit?: (root: string) => void,
): Promise<{ gateway: Gateway; url: string; root: string; close: () => Promise<void> }> {
  const { root, cleanup } = churnRepository(versions, serving);
  let gateway: Gateway;
  try {
    edit?.(root);
    gateway = await startGateway({
      overrides: { ...IN_PROCESS, modelsDir: root, log: { level: 'silent' }, ...overrides },
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  return {
    gateway,
    url: gateway.url,
    root,
    close: async () => {
      await gateway.close();
      cleanup();
    },
  };
}

/** Reads a model.json, lets `change` edit it, writes it back. */
export function editCard(path: string, change: (card: Record<string, any>) => void): void {
  const card = JSON.parse(readFileSync(path, 'utf8'));
  change(card);
  writeFileSync(path, JSON.stringify(card));
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The repository's own models/churn/<version>. */
export const bundledChurn = (version: string): string => join(repoRoot, 'models', 'churn', version);

export async function startInProcess(
  overrides: GatewayConfigInput = {},
): Promise<{ gateway: Gateway; url: string; close: () => Promise<void> }> {
  const models = testModelsDir();
  const gateway = await startGateway({
    overrides: {
      ...IN_PROCESS,
      modelsDir: models.dir,
      ...overrides,
      log: { level: 'silent', ...(overrides.log ?? {}) },
    },
  });
  return {
    gateway,
    url: gateway.url,
    close: async () => {
      await gateway.close();
      models.cleanup();
    },
  };
}

/** The latest modification time of any file under `dir`. */
export function newestIn(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir).map((f) => {
      const p = join(dir, f);
      const s = statSync(p);
      return s.isDirectory() ? newestIn(p) : s.mtimeMs;
    }),
  );
}

/** Builds the gateway's and the command's dist/ when a source file is newer (the command runs from dist). */
export function ensureBuilt(): void {
  for (const dir of [packageDir, cliDir]) {
    const out = join(dir, 'dist');
    if (existsSync(out) && newestIn(out) >= newestIn(join(dir, 'src'))) continue;
    const r = spawnSync(
      process.execPath,
      [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')],
      { encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`tsc failed:\n${r.stdout}\n${r.stderr}`);
  }
}

export interface Child {
  readonly proc: ChildProcess;
  readonly url: string;
  readonly port: number;
  readonly lines: Record<string, unknown>[];
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
}

/** `ortline serve --port 0 ...` as a child process; resolves once it logged "ready". */
export async function startChild(
  args: string[] = [],
  env: Record<string, string> = {},
  cwd = repoRoot,
): Promise<Child> {
  ensureBuilt();
  const proc = spawn(process.execPath, [ortlineBin, 'serve', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    let port = -1;
    const timer = setTimeout(() => reject(new Error(`gateway did not get ready in time; stderr: ${stderr}`)), 60_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const j = JSON.parse(line) as Record<string, unknown>;
          lines.push(j);
          if (j.msg === 'listening') port = j.port as number;
          if (j.msg === 'ready') {
            clearTimeout(timer);
            resolve(port);
          }
        } catch {
          // not a log line
        }
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before ready; stderr: ${stderr}; log: ${JSON.stringify(lines)}`));
    });
  });
  return { proc, url: `http://127.0.0.1:${port}`, port, lines, exited };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: any }> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: r.status, headers: r.headers, json };
}
