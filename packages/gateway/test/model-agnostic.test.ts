// The gateway serves any tabular model, not only churn: a second model (fixtures/models/fraud, its
// own features, answer field names and risk bands in its model.json) is served beside churn by
// the same code, over HTTP (JSON and MessagePack) and WebSocket, and the churn answers keep
// their exact shape.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Gateway, startGateway } from '../src/index.js';
import { churnDir, parity, postJson } from './helpers.js';

const FRAUD_DIR = fileURLToPath(new URL('./fixtures/models/fraud/1', import.meta.url));
const WEIGHTS: Record<string, number> = { web: 0.5, store: -1, phone: 0 };
/** The fixture graph's formula, in float64; the graph computes it in float32. */
const fraudP = (amount: number, channel: string) => 1 / (1 + Math.exp(-(amount / 100 + WEIGHTS[channel]! - 1)));

let gateway: Gateway;
let url: string;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ortline-agnostic-'));
  mkdirSync(join(dir, 'churn'));
  mkdirSync(join(dir, 'fraud'));
  symlinkSync(churnDir(), join(dir, 'churn', '1'));
  symlinkSync(FRAUD_DIR, join(dir, 'fraud', '1'));
  gateway = await startGateway({
    overrides: { host: '127.0.0.1', port: 0, modelsDir: dir, log: { level: 'silent' } },
  });
  url = gateway.url;
});
afterAll(async () => {
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a second model with its own answer names', () => {
  it("answers in the card's words: id, probability and risk fields, in that order", async () => {
    const r = await postJson(`${url}/v1/models/fraud/predict`, { transaction_id: 'T-1', amount: 250, channel: 'web' });
    expect(r.status).toBe(200);
    expect(Object.keys(r.json)).toEqual([
      'transaction_id',
      'fraud_probability',
      'risk_level',
      'model_version',
      'prediction_id',
    ]);
    expect(r.json.transaction_id).toBe('T-1');
    expect(r.json.fraud_probability).toBeCloseTo(fraudP(250, 'web'), 6);
    expect(r.json.risk_level).toBe('review');
    expect(r.json.model_version).toBe('1');
  });

  it('scores a batch through the same path, risk bands from its card', async () => {
    const cases = [
      { amount: 0, channel: 'store', risk: 'clear' },
      { amount: 250, channel: 'phone', risk: 'review' },
      { amount: 1000, channel: 'phone', risk: 'block' },
      { amount: 49.5, channel: 'web', risk: 'clear' },
    ];
    const r = await postJson(`${url}/v1/models/fraud/predict`, {
      instances: cases.map((c, i) => ({ transaction_id: `B${i}`, amount: c.amount, channel: c.channel })),
    });
    expect(r.status).toBe(200);
    for (const [i, c] of cases.entries()) {
      const p = r.json.predictions[i];
      expect(p.transaction_id).toBe(`B${i}`);
      expect(p.fraud_probability).toBeCloseTo(fraudP(c.amount, c.channel), 6);
      expect(p.risk_level).toBe(c.risk);
    }
  });

  it('MessagePack answers carry the same names', async () => {
    const r = await fetch(`${url}/v1/models/fraud/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/msgpack' },
      body: pack({ transaction_id: 'M1', amount: 10, channel: 'store' }),
    });
    expect(r.status).toBe(200);
    const a = unpack(Buffer.from(await r.arrayBuffer()));
    expect(Object.keys(a)).toEqual([
      'transaction_id',
      'fraud_probability',
      'risk_level',
      'model_version',
      'prediction_id',
    ]);
    expect(a.fraud_probability).toBeCloseTo(fraudP(10, 'store'), 6);
  });

  it('validates against its own feature schema: a bad field is named, the id field is not a feature', async () => {
    const r = await postJson(`${url}/v1/models/fraud/predict`, { transaction_id: 'X', amount: -3, channel: 'fax' });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('INVALID_FEATURES');
    const fields = r.json.error.details.issues.map((i: { field: string }) => i.field).sort();
    expect(fields).toEqual(['amount', 'channel']);
    const m = (await (await fetch(`${url}/v1/models/fraud`)).json()) as any;
    expect(m.id_fields[0]).toBe('transaction_id');
    expect(m.features.map((f: { name: string }) => f.name)).toEqual(['amount', 'channel']);
  });

  it('the WebSocket stream answers each model in its own names', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/stream`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const answers = new Promise<any[]>((resolve) => {
      const got: any[] = [];
      ws.on('message', (data: Buffer) => {
        got.push(JSON.parse(data.toString()));
        if (got.length === 2) resolve(got);
      });
    });
    const row = parity().rows[0]!;
    ws.send(JSON.stringify({ id: 1, model: 'fraud', record: { transaction_id: 'W1', amount: 5, channel: 'web' } }));
    ws.send(JSON.stringify({ id: 2, model: 'churn', record: { customer_id: row.customerID, ...row.features } }));
    const byId = new Map((await answers).map((a) => [a.id, a.prediction]));
    ws.close();
    expect(byId.get(1).transaction_id).toBe('W1');
    expect(byId.get(1).fraud_probability).toBeCloseTo(fraudP(5, 'web'), 6);
    expect(byId.get(2).customer_id).toBe(row.customerID);
    expect(Math.abs(byId.get(2).churn_probability - row.probability)).toBeLessThanOrEqual(parity().tolerance);
  });

  it('OpenAPI documents each model with its own record and prediction names', async () => {
    const o = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    expect(Object.keys(o.components.schemas.fraud_prediction.properties)).toEqual([
      'transaction_id',
      'fraud_probability',
      'risk_level',
      'model_version',
      'prediction_id',
    ]);
    expect(o.components.schemas.churn_prediction.properties.churn_probability).toBeTruthy();
    expect(o.components.schemas.fraud_record.properties.transaction_id.description).toMatch(/echoed as transaction_id/);
    expect(o.components.schemas.Prediction.anyOf).toHaveLength(2);
  });
});

describe('churn answers keep their exact shape', () => {
  it('JSON: the same keys in the same order, the same values as before', async () => {
    const row = parity().rows[1]!;
    const r = await fetch(`${url}/v1/models/churn/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer_id: row.customerID, ...row.features }),
    });
    const text = await r.text();
    expect(text).toMatch(
      new RegExp(
        `^\\{"customer_id":"${row.customerID}","churn_probability":[0-9.e-]+,"risk_category":"(Low|Medium|High)","model_version":"1","prediction_id":"[0-9a-f]{12}-[0-9a-z]+"\\}$`,
      ),
    );
    expect(Math.abs(JSON.parse(text).churn_probability - row.probability)).toBeLessThanOrEqual(parity().tolerance);
  });
});
