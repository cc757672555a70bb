// Drift over real HTTP: rows answered by a version are counted against its model card's reference;
// rows like the training data read as stable, a shifted feature reads as drift (and only that
// feature), in GET /v1/models/{name}/drift and in /metrics.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, seeded, type TelcoRecord, telcoRecords } from '../../monitor/test/telco.js';
import type { GatewayConfigInput } from '../src/index.js';
import { bundledChurn, editCard, postJson, startInProcessOn } from './helpers.js';

const training = telcoRecords();

interface Layout {
  name: string;
  psi: number | null;
  status: string;
  bins: { label: string; reference: number; current: number }[];
}
interface DriftBody {
  model: string;
  version: string;
  window: { rows: number; since: string | null; max_rows?: number; seconds?: number; min_rows: number };
  features: Layout[];
  prediction: Layout;
}

const bothVersions = { '1': bundledChurn('1'), '2': bundledChurn('2') };
const start = (overrides: GatewayConfigInput, edit?: (root: string) => void) =>
  startInProcessOn(bothVersions, { active: '1' }, overrides, edit);
/** Edits version 2's model card. */
const editV2 = (change: (card: Record<string, any>) => void) => (root: string) =>
  editCard(join(root, 'churn', '2', 'model.json'), change);

/** Scores in requests of 500; the risk category of every answer. */
async function score(url: string, path: string, records: readonly TelcoRecord[]): Promise<string[]> {
  const risks: string[] = [];
  for (let i = 0; i < records.length; i += 500) {
    const r = await postJson(`${url}${path}`, { instances: records.slice(i, i + 500) });
    expect(r.status, JSON.stringify(r.json).slice(0, 300)).toBe(200);
    for (const p of r.json.predictions) risks.push(p.risk_category);
  }
  return risks;
}

async function drift(url: string, query = ''): Promise<DriftBody> {
  const r = await fetch(`${url}/v1/models/churn/drift${query}`);
  expect(r.status).toBe(200);
  return (await r.json()) as DriftBody;
}

const psis = (d: DriftBody) => Object.fromEntries(d.features.map((f) => [f.name, f.psi]));

describe('drift', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ url, close } = await start({ drift: { windowRows: 3000, minRows: 1000 } }));
  });
  afterAll(() => close());

  it('reports no index until the window holds drift.minRows rows', async () => {
    const empty = await drift(url);
    expect(empty).toMatchObject({
      model: 'churn',
      version: '1',
      window: { rows: 0, since: null, max_rows: 3000, min_rows: 1000 },
    });
    const card = JSON.parse(readFileSync(join(bundledChurn('1'), 'model.json'), 'utf8'));
    expect(empty.features.map((f) => f.name)).toEqual(Object.keys(card.reference.features));
    expect([...empty.features, empty.prediction].every((f) => f.psi === null && f.status === 'insufficient_data')).toBe(
      true,
    );
    await score(url, '/v1/models/churn/predict', sample(training, 500, seeded(1)));
    const half = await drift(url);
    expect(half.window.rows).toBe(500);
    expect(half.features[0]!.psi).toBeNull();
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^ortline_drift_window_rows\{model="churn",version="1"\} 500$/m);
    expect(metrics).not.toMatch(/^ortline_feature_drift_psi\{/m);
  });

  it('keeps every feature and the score under 0.1 for rows drawn like the training data', async () => {
    const started = Date.now();
    await score(url, '/v1/models/churn/predict', sample(training, 3000, seeded(2)));
    const d = await drift(url);
    // 3500 rows through a 3000-row window that slides by 300: the oldest 600 went.
    expect(d.window.rows).toBe(2900);
    expect(Date.parse(d.window.since!)).toBeGreaterThanOrEqual(started);
    expect(Date.parse(d.window.since!)).toBeLessThanOrEqual(Date.now());
    for (const f of d.features) expect(f.psi, f.name).toBeLessThan(0.1);
    expect(d.features.every((f) => f.status === 'ok')).toBe(true);
    expect(d.prediction.psi).toBeLessThan(0.1);
    // Shares of every bin: the reference's and the window's, each summing to 1.
    for (const f of [...d.features, d.prediction]) {
      expect(f.bins.reduce((a, b) => a + b.reference, 0)).toBeCloseTo(1, 3);
      expect(f.bins.reduce((a, b) => a + b.current, 0)).toBeCloseTo(1, 9);
    }
  });

  it('flags Contract, and only Contract, for the version the shifted rows went to', async () => {
    const shifted = sample(training, 3000, seeded(3)).map((r) => ({ ...r, Contract: 'Two year' }));
    const risks = await score(url, '/v1/models/churn/versions/2/predict', shifted);
    const d = await drift(url, '?version=2');
    expect(d.version).toBe('2');
    const p = psis(d);
    expect(p.Contract).toBeGreaterThan(0.25);
    expect(d.features.find((f) => f.name === 'Contract')!.status).toBe('drift');
    for (const [name, value] of Object.entries(p)) if (name !== 'Contract') expect(value, name).toBeLessThan(0.1);
    // Two-year customers rarely churn: the scores moved too.
    expect(d.prediction.psi).toBeGreaterThan(0.1);
    // Version 1 saw none of it.
    expect(psis(await drift(url)).Contract).toBeLessThan(0.1);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const gauge = (labels: string) =>
      Number(new RegExp(`^ortline_feature_drift_psi\\{${labels}\\} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(gauge('model="churn",version="2",feature="Contract"')).toBeCloseTo(p.Contract!, 9);
    expect(gauge('model="churn",version="1",feature="Contract"')).toBeLessThan(0.1);
    expect(metrics).toMatch(/^ortline_prediction_drift_psi\{model="churn",version="2"\} \S+$/m);
    const count = /^ortline_prediction_probability_count\{model="churn",version="2"\} (\S+)$/m.exec(metrics)?.[1];
    expect(Number(count)).toBe(3000);
    // Risk categories counted as answered.
    for (const category of ['Low', 'Medium', 'High']) {
      const series = new RegExp(
        `^ortline_risk_predictions_total\\{model="churn",version="2",risk="${category}"\\} (\\S+)$`,
        'm',
      );
      expect(Number(series.exec(metrics)?.[1]), category).toBe(risks.filter((r) => r === category).length);
    }
  });

  it('flags tenure when it is halved; the window slides so old rows leave', async () => {
    const halved = sample(training, 3000, seeded(4)).map((r) => ({
      ...r,
      tenure: Math.floor((r.tenure as number) / 2),
    }));
    await score(url, '/v1/models/churn/versions/2/predict', halved);
    const p = psis(await drift(url, '?version=2'));
    expect(p.tenure).toBeGreaterThan(0.25);
    // The two-year rows were pushed out of the 3000-row window.
    expect(p.Contract).toBeLessThan(0.1);
  });

  it('answers 404 for an unknown version or model', async () => {
    const r = await fetch(`${url}/v1/models/churn/drift?version=9`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('VERSION_NOT_FOUND');
    const m = await fetch(`${url}/v1/models/nope/drift`);
    expect(((await m.json()) as { error: { code: string } }).error.code).toBe('MODEL_NOT_FOUND');
    const post = await fetch(`${url}/v1/models/churn/drift`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths['/v1/models/{name}/drift']).toBeDefined();
    expect(doc.components.schemas.Drift).toMatchObject({
      required: ['model', 'version', 'window', 'features', 'prediction'],
    });
  });
});

describe('drift not watched', () => {
  it('answers DRIFT_NOT_WATCHED when drift is off, and exports no drift series', async () => {
    const g = await start({ drift: { enabled: false } });
    try {
      await score(g.url, '/v1/models/churn/predict', training.slice(0, 10));
      const r = await fetch(`${g.url}/v1/models/churn/drift`);
      expect(r.status).toBe(404);
      expect(await r.json()).toMatchObject({ error: { code: 'DRIFT_NOT_WATCHED', details: { reason: 'disabled' } } });
      expect(await (await fetch(`${g.url}/metrics`)).text()).not.toMatch(/^ortline_drift_window_rows\{/m);
    } finally {
      await g.close();
    }
  });

  it('serves a version whose card has no reference, and says so', async () => {
    const g = await start(
      {},
      editV2((card) => {
        delete card.reference;
      }),
    );
    try {
      const r = await fetch(`${g.url}/v1/models/churn/drift?version=2`);
      expect(await r.json()).toMatchObject({
        error: { code: 'DRIFT_NOT_WATCHED', details: { reason: 'no_reference', version: '2' } },
      });
      expect((await fetch(`${g.url}/v1/models/churn/drift?version=1`)).status).toBe(200);
    } finally {
      await g.close();
    }
  });

  it('refuses a version whose reference is broken, as an invalid card', async () => {
    const g = await start(
      {},
      editV2((card) => {
        card.reference.features.tenure.shares = [1];
      }),
    );
    try {
      const states = (await (await fetch(`${g.url}/metrics`)).text()).match(
        /^ortline_model_gate_failures_total\{.*\} \S+$/gm,
      );
      expect(states?.join('\n')).toMatch(/reason="card_invalid"\} 1/);
      expect((await fetch(`${g.url}/v1/models/churn/drift?version=2`)).status).toBe(503);
    } finally {
      await g.close();
    }
  });
});
