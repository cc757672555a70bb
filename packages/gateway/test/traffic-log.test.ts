// The traffic log over real HTTP and WebSocket: with sampling 1.0 every answered row is logged
// exactly once with what was answered; refused requests are not; a full queue drops rows (counted)
// while every request still succeeds; canary and shadow rows say which route they took.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTrafficLog, type TrafficLine } from '@ortline/monitor';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sample, seeded, telcoRecords } from '../../monitor/test/telco.js';
import { type GatewayConfigInput, StartupError } from '../src/index.js';
import { bundledChurn, postJson, startInProcessOn } from './helpers.js';

const training = telcoRecords();
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

async function run(
  trafficLog: GatewayConfigInput['trafficLog'],
  serving: unknown,
  work: (url: string) => Promise<void>,
  versions: Record<string, string> = { '1': bundledChurn('1'), '2': bundledChurn('2') },
): Promise<{ lines: TrafficLine[]; metrics: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ortline-log-'));
  temps.push(dir);
  const g = await startInProcessOn(versions, serving, { trafficLog: { dir, ...trafficLog } });
  let metrics = '';
  try {
    await work(g.url);
    // Shadow rows are scored after the answers: give them a moment before the counters are read.
    await new Promise((r) => setTimeout(r, 200));
    metrics = await (await fetch(`${g.url}/metrics`)).text();
  } finally {
    await g.close();
  }
  const lines: TrafficLine[] = [];
  for await (const line of readTrafficLog(dir)) lines.push(line);
  return { lines, metrics, dir };
}

const counter = (metrics: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(metrics)?.[1]);

function wsFrames(url: string, frames: object[]): Promise<any[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/stream?model=churn`);
    const answers: any[] = [];
    ws.on('open', () => {
      for (const f of frames) ws.send(JSON.stringify(f));
    });
    ws.on('message', (m) => {
      answers.push(JSON.parse(m.toString()));
      if (answers.length === frames.length) {
        ws.close();
        resolve(answers);
      }
    });
    ws.on('error', reject);
  });
}

describe('traffic log', () => {
  it('logs every answered row exactly once, with what was answered, under concurrent load', async () => {
    const rows = sample(training, 1200, seeded(21)).map((r, i) => ({ ...r, customer_id: `c-${i}` }));
    const answers = new Map<string, { p: number; risk: string; rid: string }>();
    const { lines, metrics } = await run({ sampleRate: 1 }, { active: '1' }, async (url) => {
      // 400 single-record requests, 16 at a time; 4 requests of 100 instances; 400 WebSocket frames.
      const singles = rows.slice(0, 400);
      for (let i = 0; i < singles.length; i += 16) {
        await Promise.all(
          singles.slice(i, i + 16).map(async (r, k) => {
            const rid = `req-${i + k}`;
            const a = await postJson(`${url}/v1/models/churn/predict`, r, { 'x-request-id': rid });
            expect(a.status).toBe(200);
            answers.set(r.customer_id, { p: a.json.churn_probability, risk: a.json.risk_category, rid });
          }),
        );
      }
      for (let i = 400; i < 800; i += 100) {
        const a = await postJson(`${url}/v1/models/churn/predict`, { instances: rows.slice(i, i + 100) });
        for (const p of a.json.predictions)
          answers.set(p.customer_id, { p: p.churn_probability, risk: p.risk_category, rid: '' });
      }
      const ws = await wsFrames(
        url,
        rows.slice(800).map((r, i) => ({ id: `f-${i}`, record: r })),
      );
      for (const a of ws)
        answers.set(a.prediction.customer_id, {
          p: a.prediction.churn_probability,
          risk: a.prediction.risk_category,
          rid: a.id,
        });
      // Refused: not answered, not logged.
      expect((await postJson(`${url}/v1/models/churn/predict`, { ...rows[0], tenure: -1 })).status).toBe(422);
    });
    expect(lines).toHaveLength(1200);
    const ids = lines.map((l) => l.id as string);
    expect(new Set(ids).size).toBe(1200);
    for (const l of lines) {
      const a = answers.get(l.id as string)!;
      expect(l).toMatchObject({ model: 'churn', version: '1', route: 'active', probability: a.p, risk: a.risk });
      if (a.rid !== '') expect(l.request_id).toBe(a.rid);
      else expect(l.request_id).toMatch(/\S/);
      expect(l.features).not.toHaveProperty('customer_id');
      expect(Object.keys(l.features)).toHaveLength(19);
      expect(l.latency_ms).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(l.time))).toBe(false);
      // The request's cache source: an instances request with a row seen before is `mixed`.
      expect(['miss', 'l1', 'mixed']).toContain(l.cache);
    }
    // The rows of one instances request share its id.
    const byRequest = new Map<string, number>();
    for (const l of lines) byRequest.set(l.request_id, (byRequest.get(l.request_id) ?? 0) + 1);
    expect([...byRequest.values()].filter((n) => n === 100)).toHaveLength(4);
    expect(counter(metrics, 'ortline_traffic_log_rows_total')).toBe(1200);
    expect(counter(metrics, 'ortline_traffic_log_dropped_rows_total{reason="full"}')).toBe(0);
  });

  it('drops rows past a full queue and counts them; every request still succeeds', async () => {
    const rows = sample(training, 1000, seeded(22));
    const { lines, metrics } = await run({ sampleRate: 1, maxQueueRows: 5 }, { active: '1' }, async (url) => {
      const a = await postJson(`${url}/v1/models/churn/predict`, { instances: rows });
      expect(a.status).toBe(200);
      expect(a.json.predictions).toHaveLength(1000);
    });
    expect(lines).toHaveLength(5);
    expect(counter(metrics, 'ortline_traffic_log_dropped_rows_total{reason="full"}')).toBe(995);
    expect(counter(metrics, 'ortline_traffic_log_rows_total')).toBe(5);
  });

  it('samples the configured share of rows', async () => {
    const rows = sample(training, 2000, seeded(23));
    const { lines } = await run({ sampleRate: 0.25 }, { active: '1' }, async (url) => {
      for (let i = 0; i < rows.length; i += 500)
        expect((await postJson(`${url}/v1/models/churn/predict`, { instances: rows.slice(i, i + 500) })).status).toBe(
          200,
        );
    });
    // Binomial(2000, 0.25): mean 500, sd 19; six sd either side.
    expect(lines.length).toBeGreaterThan(385);
    expect(lines.length).toBeLessThan(615);
  });

  it('says which route chose each row: active, canary, pinned, shadow (same request id)', async () => {
    const rows = sample(training, 400, seeded(24)).map((r, i) => ({ ...r, customer_id: `k-${i}` }));
    const { lines } = await run(
      { sampleRate: 1 },
      { active: '1', canary: { version: '2', weight: 0.5 }, shadow: '3' },
      async (url) => {
        const a = await postJson(`${url}/v1/models/churn/predict`, { instances: rows }, { 'x-request-id': 'mixed' });
        expect(a.status).toBe(200);
        const pinned = await postJson(`${url}/v1/models/churn/versions/1/predict`, rows[0]);
        expect(pinned.status).toBe(200);
      },
      { '1': bundledChurn('1'), '2': bundledChurn('2'), '3': bundledChurn('2') },
    );
    const live = lines.filter((l) => l.request_id === 'mixed' && l.route !== 'shadow');
    expect(live).toHaveLength(400);
    const canary = live.filter((l) => l.route === 'canary');
    expect(canary.length).toBeGreaterThan(100);
    expect(canary.every((l) => l.version === '2')).toBe(true);
    expect(live.filter((l) => l.route === 'active').every((l) => l.version === '1')).toBe(true);
    const shadow = lines.filter((l) => l.route === 'shadow');
    expect(shadow).toHaveLength(400);
    expect(shadow.every((l) => l.version === '3' && l.request_id === 'mixed' && l.cache === 'internal')).toBe(true);
    expect(lines.filter((l) => l.route === 'pinned')).toMatchObject([{ version: '1', id: 'k-0' }]);
  });

  it('refuses to start when its folder cannot be made, and writes nothing when off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-log-'));
    temps.push(dir);
    writeFileSync(join(dir, 'file'), '');
    // startInProcessOn removes its folder when the start fails.
    await expect(
      startInProcessOn(
        { '1': bundledChurn('1') },
        { active: '1' },
        {
          trafficLog: { sampleRate: 1, dir: join(dir, 'file', 'log') },
        },
      ),
    ).rejects.toThrow(StartupError);
    const off = await run({ sampleRate: 0 }, { active: '1' }, async (url) => {
      expect((await postJson(`${url}/v1/models/churn/predict`, training[0])).status).toBe(200);
    });
    expect(off.lines).toHaveLength(0);
    expect(readdirSync(off.dir)).toEqual([]);
  });
});
