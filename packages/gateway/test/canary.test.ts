// Canary routing over real HTTP and WebSocket: sticky per customer id, the split over many ids
// near the weight, the answering version in the body and the x-ortline-model-version header,
// and a batch split across two versions answered in order with the request's row numbers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Gateway, startGateway } from '../src/index.js';
import { canaryShare } from '../src/predict/route.js';
import { churnDir, churnRepository, parity } from './helpers.js';

const WEIGHT = 0.3;
let root: string;
let gateway: Gateway;
let url: string;
const rows = parity().rows;

let cleanup: () => void;

beforeAll(async () => {
  ({ root, cleanup } = churnRepository(
    { '1': churnDir(), '2': churnDir() },
    { active: '1', canary: { version: '2', weight: WEIGHT } },
  ));
  gateway = await startGateway({
    overrides: { host: '127.0.0.1', port: 0, modelsDir: root, log: { level: 'silent' } },
  });
  url = gateway.url;
});
afterAll(async () => {
  await gateway?.close();
  cleanup?.();
});

async function predict(body: unknown): Promise<{ status: number; header: string | null; body: any }> {
  const r = await fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, header: r.headers.get('x-ortline-model-version'), body: await r.json() };
}

const expected = (id: string) => (canaryShare('churn', id) < WEIGHT ? '2' : '1');

describe('the canary share', () => {
  it('is a deterministic function of model and id, spread evenly over [0, 1)', () => {
    expect(canaryShare('churn', 'C1')).toBe(canaryShare('churn', 'C1'));
    expect(canaryShare('churn', 'C1')).not.toBe(canaryShare('fraud', 'C1'));
    const shares = Array.from({ length: 20_000 }, (_, i) => canaryShare('churn', `customer-${i}`));
    for (const s of shares) expect(s >= 0 && s < 1).toBe(true);
    const deciles = new Array(10).fill(0);
    for (const s of shares) deciles[Math.floor(s * 10)]++;
    // 2,000 expected per decile; 5 standard deviations is about 210.
    for (const d of deciles) expect(Math.abs(d - 2000)).toBeLessThan(210);
  });
});

describe('canary routing', () => {
  it('one customer gets one version across 100 requests, in the body and the header', async () => {
    for (const id of ['7590-VHVEG', '5575-GNVDE']) {
      const seen = new Set<string>();
      for (let i = 0; i < 100; i++) {
        const r = await predict({ customer_id: id, ...rows[i % rows.length]!.features });
        expect(r.status).toBe(200);
        expect(r.header).toBe(r.body.model_version);
        seen.add(r.body.model_version);
      }
      expect([...seen]).toEqual([expected(id)]);
    }
  });

  it('over many ids the canary answers close to its weight; records without an id are split too', async () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `cust-${i}`);
    const r = await predict({
      instances: ids.map((id, i) => ({ customerID: id, ...rows[i % rows.length]!.features })),
    });
    expect(r.status).toBe(200);
    const versions = r.body.predictions.map((p: any) => p.model_version);
    for (const [i, v] of versions.entries()) expect(v).toBe(expected(ids[i]!));
    const share = versions.filter((v: string) => v === '2').length / ids.length;
    expect(Math.abs(share - WEIGHT)).toBeLessThan(0.05);
    expect(r.header).toBe('1,2');
    // The probabilities are the models' own, row by row (both versions are the same graph here).
    for (const [i, p] of r.body.predictions.entries())
      expect(p.churn_probability).toBeCloseTo(rows[i % rows.length]!.probability, 5);

    const anonymous = await predict({
      instances: Array.from({ length: 1000 }, (_, i) => rows[i % rows.length]!.features),
    });
    const canary = anonymous.body.predictions.filter((p: any) => p.model_version === '2').length;
    // 300 expected; the standard deviation is about 14.5.
    expect(canary).toBeGreaterThan(220);
    expect(canary).toBeLessThan(380);
  });

  it('a bad row in a batch split across versions is reported with its row in the request', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `row-${i}`);
    const bad = ids.findLastIndex((id) => expected(id) === '2');
    const bad1 = ids.findLastIndex((id) => expected(id) === '1');
    const instances = ids.map((id, i) => ({
      customer_id: id,
      ...rows[i]!.features,
      ...(i === bad ? { tenure: -5 } : {}),
      ...(i === bad1 ? { Contract: 'Weekly' } : {}),
    }));
    const r = await predict({ instances });
    expect(r.status).toBe(422);
    const issues = r.body.error.details.issues.map((x: any) => [x.row, x.field]);
    expect(issues).toEqual(
      [
        [bad, 'tenure'],
        [bad1, 'Contract'],
      ].sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    for (const issue of r.body.error.details.issues) expect(issue.message).toMatch(new RegExp(`^row ${issue.row}:`));
  });

  it('ortline_predictions_total counts each version by the route that chose it', async () => {
    const scrape = async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const count = (version: string, route: string) =>
        Number(
          new RegExp(
            `^ortline_predictions_total\\{[^}]*version="${version}"[^}]*route="${route}"[^}]*\\} (\\S+)$`,
            'm',
          ).exec(text)?.[1] ?? 0,
        );
      return { active: count('1', 'active'), canary: count('2', 'canary'), pinned: count('1', 'pinned') };
    };
    const before = await scrape();
    const ids = Array.from({ length: 500 }, (_, i) => `metric-${i}`);
    await predict({ instances: ids.map((id, i) => ({ customer_id: id, ...rows[i % rows.length]!.features })) });
    await fetch(`${url}/v1/models/churn/versions/1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [rows[0]!.features, rows[1]!.features] }),
    });
    const after = await scrape();
    const toCanary = ids.filter((id) => expected(id) === '2').length;
    expect(after.canary - before.canary).toBe(toCanary);
    expect(after.active - before.active).toBe(ids.length - toCanary);
    expect(after.pinned - before.pinned).toBe(2);
  });

  it('a request naming a version is never rerouted', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const r = await fetch(`${url}/v1/models/churn/versions/1/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ customer_id: id, ...rows[0]!.features }),
      });
      expect(r.headers.get('x-ortline-model-version')).toBe('1');
    }
  });

  it('WebSocket frames follow the same sticky split', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/stream?model=churn`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const ids = Array.from({ length: 200 }, (_, i) => `ws-${i}`);
    const answers = new Map<string, string>();
    const done = new Promise<void>((resolve) => {
      ws.on('message', (data) => {
        const a = JSON.parse(String(data));
        answers.set(a.id, a.prediction.model_version);
        if (answers.size === ids.length) resolve();
      });
    });
    for (const [i, id] of ids.entries())
      ws.send(JSON.stringify({ id, record: { customer_id: id, ...rows[i % rows.length]!.features } }));
    await done;
    ws.close();
    for (const id of ids) expect(answers.get(id)).toBe(expected(id));
  });
});
