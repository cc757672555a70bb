// Shadow traffic over real HTTP: the shadow version scores the same records after the answer has
// gone, answers nothing itself, and is measured against the live answer; its queue bound drops
// rows (counted) instead of delaying anyone.
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayConfigInput } from '../src/index.js';
import { bundledChurn, churnDir, parity, startInProcessOn } from './helpers.js';

const rows = parity().rows;
const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/**
 * churn 1 active and 2 its shadow. `real`: the repository's versions 1 and 2 (histogram GBM and
 * LightGBM); otherwise version 2 is a copy of 1.
 */
async function start(overrides: GatewayConfigInput = {}, real = false): Promise<string> {
  const g = await startInProcessOn(
    real ? { '1': bundledChurn('1'), '2': bundledChurn('2') } : { '1': churnDir(), '2': churnDir() },
    { active: '1', shadow: '2' },
    overrides,
  );
  open.push(g.close);
  return g.url;
}

async function metric(url: string, series: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const escaped = series.replace(/[{}]/g, (c) => `\\${c}`);
  return Number(new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met in 2 s');
}

const batch = (n: number) =>
  JSON.stringify({ instances: Array.from({ length: n }, (_, i) => rows[i % rows.length]!.features) });

async function post(url: string, body: string): Promise<{ status: number; versions: Set<string> }> {
  const r = await fetch(`${url}/v1/models/churn/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const j = (await r.json()) as { predictions: { model_version: string }[] };
  return { status: r.status, versions: new Set(j.predictions.map((p) => p.model_version)) };
}

describe('shadow traffic', () => {
  it('the shadow scores every live row after the answer, and only the active version answers', async () => {
    const url = await start();
    const answer = await post(url, batch(300));
    expect(answer.status).toBe(200);
    expect([...answer.versions]).toEqual(['1']);
    await until(async () => (await metric(url, 'ortline_shadow_rows_total{model="churn",version="2"}')) === 300);
    // The same graph on both sides here: no difference, no disagreement (the LightGBM version's test
    // measures a real one).
    expect(await metric(url, 'ortline_shadow_abs_diff_sum{model="churn",version="2"}')).toBe(0);
    expect(await metric(url, 'ortline_shadow_risk_disagreements_total{model="churn",version="2"}')).toBe(0);
    // Shadow rows are counted as such, never as predictions anyone got.
    expect(await metric(url, 'ortline_predictions_total{model="churn",version="2",route="shadow"}')).toBe(300);
    expect(await metric(url, 'ortline_predictions_total{model="churn",version="2",route="active"}')).toBe(0);
    expect(await metric(url, 'ortline_predictions_total{model="churn",version="1",route="active"}')).toBe(300);
  });

  it("against the LightGBM version: the mean difference and the disagreements are the versions' own", async () => {
    const url = await start({}, true);
    const body = batch(300);
    const answer = await post(url, body);
    expect([...answer.versions]).toEqual(['1']);
    await until(async () => (await metric(url, 'ortline_shadow_rows_total{model="churn",version="2"}')) === 300);
    // What each version answers for the same rows, asked directly.
    const pinned = async (v: string) =>
      (
        (await (
          await fetch(`${url}/v1/models/churn/versions/${v}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          })
        ).json()) as { predictions: { churn_probability: number; risk_category: string }[] }
      ).predictions;
    const [one, two] = [await pinned('1'), await pinned('2')];
    let sum = 0;
    let disagree = 0;
    for (let i = 0; i < one.length; i++) {
      sum += Math.abs(two[i]!.churn_probability - one[i]!.churn_probability);
      if (two[i]!.risk_category !== one[i]!.risk_category) disagree++;
    }
    expect(sum).toBeGreaterThan(1);
    expect(await metric(url, 'ortline_shadow_abs_diff_sum{model="churn",version="2"}')).toBeCloseTo(sum, 6);
    expect(await metric(url, 'ortline_shadow_risk_disagreements_total{model="churn",version="2"}')).toBe(disagree);
  });

  it('past shadow.maxQueueRows the rows are dropped and counted; the answer is unaffected', async () => {
    const url = await start({ shadow: { maxQueueRows: 5 } });
    const answer = await post(url, batch(10));
    expect(answer.status).toBe(200);
    expect(await metric(url, 'ortline_shadow_dropped_rows_total{model="churn",version="2",reason="full"}')).toBe(10);
    expect(await metric(url, 'ortline_shadow_rows_total{model="churn",version="2"}')).toBe(0);
  });

  it('sampleRate 0 mirrors nothing; a request naming a version is not mirrored', async () => {
    const url = await start({ shadow: { sampleRate: 0 } });
    await post(url, batch(20));
    const pinned = await fetch(`${url}/v1/models/churn/versions/1/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: batch(20),
    });
    expect(pinned.status).toBe(200);
    await new Promise((r) => setTimeout(r, 50));
    expect(await metric(url, 'ortline_shadow_rows_total{model="churn",version="2"}')).toBe(0);
  });
});
