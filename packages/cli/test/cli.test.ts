// The `ortline` command as users run it (a child process on the built package): configuration
// from env and flags, start-up failures, and graceful shutdown under load.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadUntilClosed } from '../../gateway/test/drain-load.js';
import {
  ensureBuilt,
  ortlineBin,
  packageDir,
  parity,
  repoRoot,
  startChild,
  testModelsDir,
} from '../../gateway/test/helpers.js';

const models = testModelsDir();
afterAll(() => models.cleanup());
const { rows, tolerance } = parity();
const bin = ortlineBin;

function run(args: string[], env: Record<string, string> = {}) {
  ensureBuilt();
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
}

/** The fatal (level 60) line of the gateway's JSON log. */
function fatalLine(stdout: string): any {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((l) => l.level === 60);
}

describe('ortline CLI', () => {
  it('`ortline config` prints the resolved configuration; env and flags apply', () => {
    const r = run(['config', '--batcher-max-batch-rows', '128'], {
      PORT: '9123',
      MODELS_DIR: '/srv/models',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.port).toBe(9123);
    expect(c.modelsDir).toBe('/srv/models');
    expect(c.redisUrl).toBe('redis://cache:6379');
    expect(c.batcher.maxBatchRows).toBe(128);
  });

  it('rejects a bad flag or value with exit code 2 and a message naming it', () => {
    const a = run(['serve', '--prot', '1']);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('unknown flag --prot');
    const b = run(['serve', '--max-instances', '0']);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('maxInstances');
  });

  it('exits 1 with a fatal log line when the models directory is missing', () => {
    const r = run(['serve', '--port', '0', '--host', '127.0.0.1', '--models-dir', '/nonexistent/models']);
    expect(r.status).toBe(1);
    const fatal = fatalLine(r.stdout);
    expect(fatal.msg).toBe('start-up failed');
    expect(fatal.err.message).toContain('/nonexistent/models');
  });

  it('exits 1 naming the directory when it holds no model (a start-up error, not a 404 code)', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ortline-empty-models-'));
    try {
      const r = run(['serve', '--port', '0', '--host', '127.0.0.1', '--models-dir', empty]);
      expect(r.status).toBe(1);
      const fatal = fatalLine(r.stdout);
      expect(fatal.err.message).toBe(`no models in ${empty}: expected <dir>/<name>/<version>/model.onnx`);
      expect(fatal.err.type).toBe('RepositoryError');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('serves with MODELS_DIR from the environment, answers requests, logs JSON lines with request ids', async () => {
    const child = await startChild(['--log-requests'], { MODELS_DIR: models.dir });
    try {
      expect(child.lines.find((l) => l.msg === 'listening')).toMatchObject({ native: true });
      const r = await fetch(`${child.url}/v1/models/churn/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'trace-42' },
        body: JSON.stringify(rows[0]!.features),
      });
      expect(r.status).toBe(200);
      expect(Math.abs(((await r.json()) as any).churn_probability - rows[0]!.probability)).toBeLessThanOrEqual(
        tolerance,
      );
      expect((await fetch(`${child.url}/v1/models/nope/predict`, { method: 'POST', body: '{}' })).status).toBe(404);
    } finally {
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    }
    const requests = child.lines.filter((l) => l.msg === 'request');
    expect(requests[0]).toMatchObject({
      reqId: 'trace-42',
      method: 'POST',
      url: '/v1/models/churn/predict',
      status: 200,
    });
    expect(requests[1]).toMatchObject({ reqId: expect.any(String), status: 404 });
  });

  it("by default serves the repository's models/, also from the package directory (pnpm --filter ... exec)", async () => {
    // An empty MODELS_DIR counts as unset.
    const child = await startChild([], { MODELS_DIR: '' }, packageDir);
    try {
      const loading = child.lines.find((l) => l.msg === 'loading models')!;
      expect(loading.modelsDir).toBe(join(repoRoot, 'models'));
      expect((await fetch(`${child.url}/readyz`)).status).toBe(200);
    } finally {
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    }
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM under load: stops accepting, answers everything in flight, exits 0 with zero failed requests', async () => {
    const child = await startChild(['--models-dir', models.dir]);
    let fire!: () => void;
    const warmedUp = new Promise<void>((r) => (fire = r));
    const load = loadUntilClosed(child.url, 64, () => fire());

    // A WebSocket with frames in flight too.
    const ws = new WebSocket(`${child.url.replace('http', 'ws')}/v1/stream`);
    await new Promise((r) => ws.once('open', r));
    const wsAnswers: { id: number; prediction?: unknown; error?: { code: string } }[] = [];
    const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.on('message', (d: Buffer) => wsAnswers.push(JSON.parse(d.toString())));

    await warmedUp;
    for (let i = 0; i < 500; i++) ws.send(JSON.stringify({ id: i, record: rows[i % rows.length]!.features }));
    load.signal();
    child.proc.kill('SIGTERM');
    await load.all;
    const code = await child.exited;
    const wsCode = await wsClosed;

    expect(load.results.failed).toEqual([]);
    expect(load.results.ok).toBeGreaterThan(64 * 5);
    expect(load.results.afterSignal).toBeGreaterThan(0);
    expect(code).toBe(0);
    // Every frame sent got an answer before the socket closed with "going away".
    expect(wsAnswers).toHaveLength(500);
    expect(wsAnswers.filter((a) => a.error && a.error.code !== 'SHUTTING_DOWN')).toEqual([]);
    expect(wsCode).toBe(1001);
    // Nothing accepts connections afterwards.
    await expect(fetch(`${child.url}/healthz`)).rejects.toThrow();
    const stopped = child.lines.find((l) => l.msg === 'stopped');
    expect(stopped).toMatchObject({ drained: true });
  });
});
