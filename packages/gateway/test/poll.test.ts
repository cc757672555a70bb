// models.control: poll picks up version folders copied in while serving (only once complete and
// settled), retries a rejected one only when its files change, and drops removed ones unless they
// take traffic; none refuses load and unload.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Gateway, type GatewayConfigInput, startGateway } from '../src/index.js';
import { parity, repoRoot } from './helpers.js';

const SETTLE_MS = 150;
const open: { gateway: Gateway; root: string }[] = [];
afterEach(async () => {
  for (const { gateway, root } of open.splice(0)) {
    await gateway.close();
    rmSync(root, { recursive: true, force: true });
  }
});

const source = (v: string, f: string) => join(repoRoot, 'models', 'churn', v, f);

async function start(overrides: GatewayConfigInput): Promise<{ gateway: Gateway; root: string }> {
  const root = mkdtempSync(join(tmpdir(), 'ortline-poll-'));
  mkdirSync(join(root, 'churn', '1'), { recursive: true });
  for (const f of ['model.onnx', 'model.json', 'parity.json'])
    copyFileSync(source('1', f), join(root, 'churn', '1', f));
  const gateway = await startGateway({
    overrides: { host: '127.0.0.1', port: 0, modelsDir: root, log: { level: 'silent' }, ...overrides },
  });
  const g = { gateway, root };
  open.push(g);
  return g;
}

const states = (g: Gateway) =>
  Object.fromEntries(
    g
      .registry!.model('churn')
      .statuses()
      .map((s) => [s.version, s.state]),
  );

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('models.control poll', () => {
  const poll: GatewayConfigInput = { models: { control: 'poll', pollIntervalMs: 20, pollSettleMs: SETTLE_MS } };

  it('loads a folder copied in once complete and settled, and unloads it when removed', async () => {
    const { gateway, root } = await start(poll);
    const dir = join(root, 'churn', '2');
    mkdirSync(dir);
    copyFileSync(source('2', 'model.onnx'), join(dir, 'model.onnx'));
    // model.json is not there yet: not a complete version.
    await sleep(SETTLE_MS * 2);
    expect(states(gateway)).toEqual({ '1': 'ready' });

    copyFileSync(source('2', 'parity.json'), join(dir, 'parity.json'));
    copyFileSync(source('2', 'model.json'), join(dir, 'model.json'));
    const copied = Date.now();
    await sleep(SETTLE_MS / 3);
    expect(states(gateway)).toEqual({ '1': 'ready' });
    await until(() => states(gateway)['2'] === 'ready');
    expect(Date.now() - copied).toBeGreaterThanOrEqual(SETTLE_MS);
    const r = await fetch(`${gateway.url}/v1/models/churn/versions/2/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(parity().rows[0]!.features),
    });
    expect(r.status).toBe(200);

    rmSync(dir, { recursive: true });
    await until(() => !('2' in states(gateway)));
    expect(states(gateway)).toEqual({ '1': 'ready' });
  });

  it('a rejected folder is tried again only when its files change; the active one is never dropped', async () => {
    const { gateway, root } = await start(poll);
    const dir = join(root, 'churn', '2');
    mkdirSync(dir);
    const p = JSON.parse(readFileSync(source('2', 'parity.json'), 'utf8'));
    p.rows[3].probability += 0.2;
    writeFileSync(join(dir, 'parity.json'), JSON.stringify(p));
    copyFileSync(source('2', 'model.onnx'), join(dir, 'model.onnx'));
    copyFileSync(source('2', 'model.json'), join(dir, 'model.json'));
    await until(() => states(gateway)['2'] === 'failed');
    const entry = gateway.registry!.model('churn');
    expect(entry.statuses().find((s) => s.version === '2')!.reason).toBe('parity_failed');
    const metrics = async () =>
      Number(
        /ortline_model_gate_failures_total\{model="churn",reason="parity_failed"\} (\d+)/.exec(
          await (await fetch(`${gateway.url}/metrics`)).text(),
        )?.[1],
      );
    await sleep(SETTLE_MS * 3);
    expect(await metrics()).toBe(1);

    copyFileSync(source('2', 'parity.json'), join(dir, 'parity.json'));
    await until(() => states(gateway)['2'] === 'ready');

    rmSync(join(root, 'churn', '1'), { recursive: true });
    await sleep(SETTLE_MS * 2);
    expect(states(gateway)['1']).toBe('ready');
    expect(gateway.registry!.resolve('churn').version).toBe('1');
  });
});

describe('models.control none', () => {
  it('refuses load and unload with 409 MODEL_CONTROL_DISABLED; routing still changes', async () => {
    const { gateway, root } = await start({ models: { control: 'none' }, admin: { token: 't' } });
    mkdirSync(join(root, 'churn', '2'));
    const auth = { authorization: 'Bearer t' };
    const load = await fetch(`${gateway.url}/admin/v1/models/churn/versions/2/load`, { method: 'POST', headers: auth });
    expect(load.status).toBe(409);
    expect(((await load.json()) as any).error.code).toBe('MODEL_CONTROL_DISABLED');
    const unload = await fetch(`${gateway.url}/admin/v1/models/churn/versions/1`, { method: 'DELETE', headers: auth });
    expect(((await unload.json()) as any).error.code).toBe('MODEL_CONTROL_DISABLED');
    expect(states(gateway)).toEqual({ '1': 'ready' });
  });
});
