// The cache tiers end to end, against a real redis-server started here on a free port: hits and
// misses per tier, canonical keys, TTL expiry, two gateway processes sharing L2, no stale answer
// across versions, the per-request opt-outs, the admin flush, and the metrics.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../src/index.js';
import { eventually, freshRecord, gatewayOn, metric, metrics, predict, twoVersionRepo } from './cache-helpers.js';
import { parity, startChild } from './helpers.js';
import { RedisServer } from './redis.js';

const { rows, tolerance } = parity();
const L2 = { timeoutMs: 200 }; // generous: these tests are about behaviour, not the budget (cache-degrade.test.ts)

let redis: RedisServer;
let client: Redis;
const repo = twoVersionRepo('1');
const gateways: Gateway[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  client?.disconnect();
  await redis?.stop();
  repo.cleanup();
});

async function start(overrides: Parameters<typeof gatewayOn>[1] = {}): Promise<Gateway> {
  const g = await gatewayOn(repo.dir, {
    redisUrl: redis.url,
    ...overrides,
    cache: { ...overrides.cache, l2: { ...L2, ...overrides.cache?.l2 } },
  });
  gateways.push(g);
  return g;
}

/** Waits until Redis holds `n` more keys than `before` (stores go out after the answer). */
async function storedKeys(atLeast: number): Promise<void> {
  expect(await eventually(async () => (await client.dbsize()) >= atLeast, 3000)).toBe(true);
}

describe('L1 and L2: hits and misses per tier', () => {
  let g: Gateway;
  beforeAll(async () => {
    g = await start();
  });

  it('a record: miss, then an L1 hit with the same score; the id is echoed per request, not cached', async () => {
    const rec = rows[0]!.features;
    const a = await predict(g.url, { customer_id: 'A-1', ...rec });
    expect(a.status).toBe(200);
    expect(a.cache).toBe('miss');
    expect(Math.abs(a.body.churn_probability - rows[0]!.probability)).toBeLessThanOrEqual(tolerance);
    // Same features in another order with another id: same key (canonical values), own id.
    const reordered = Object.fromEntries(Object.entries(rec).reverse());
    const b = await predict(g.url, { ...reordered, customer_id: 'B-2' });
    expect(b.cache).toBe('l1');
    expect(b.body.churn_probability).toBe(a.body.churn_probability);
    expect(b.body.customer_id).toBe('B-2');
    expect(b.body.prediction_id).not.toBe(a.body.prediction_id);
  });

  it('instances: only the missing rows are computed; every row lands where it belongs', async () => {
    const before = metric(await metrics(g.url), 'ortline_rows_scored_total');
    const fresh = [freshRecord(), freshRecord()];
    const body = { instances: [rows[0]!.features, fresh[0], rows[1]!.features, fresh[1]] };
    const a = await predict(g.url, body);
    expect(a.cache).toBe('mixed');
    expect(metric(await metrics(g.url), 'ortline_rows_scored_total') - before).toBe(3); // rows[0] was cached
    const again = await predict(g.url, body);
    expect(again.cache).toBe('l1');
    expect(again.body.predictions.map((p: { churn_probability: number }) => p.churn_probability)).toEqual(
      a.body.predictions.map((p: { churn_probability: number }) => p.churn_probability),
    );
    expect(Math.abs(a.body.predictions[2].churn_probability - rows[1]!.probability)).toBeLessThanOrEqual(tolerance);
  });

  it('an invalid record is still refused with every bad field (422), cached or not', async () => {
    const r = await predict(g.url, {
      instances: [rows[0]!.features, { ...rows[0]!.features, tenure: -1, gender: 'x' }],
    });
    expect(r.status).toBe(422);
    expect(r.body.error.details.issues.map((i: { field: string }) => i.field).sort()).toEqual(['gender', 'tenure']);
  });

  it('L2 alone (L1 off): miss, then an L2 hit once the store landed', async () => {
    const l2only = await start({ cache: { l1: { enabled: false } } });
    const rec = freshRecord();
    const keysBefore = await client.dbsize();
    const a = await predict(l2only.url, rec);
    expect(a.cache).toBe('miss');
    await storedKeys(keysBefore + 1);
    const b = await predict(l2only.url, rec);
    expect(b.cache).toBe('l2');
    expect(b.body.churn_probability).toBe(a.body.churn_probability);
    const text = await metrics(l2only.url);
    expect(metric(text, 'ortline_cache_hits_total', { tier: 'l2' })).toBe(1);
    expect(metric(text, 'ortline_cache_misses_total', { tier: 'l2' })).toBe(1);
    expect(metric(text, 'ortline_cache_hits_total', { tier: 'l1' })).toBe(0);
  });
});

describe('L2 works per micro-batch', () => {
  const mgetCalls = async () => Number(/cmdstat_mget:calls=(\d+)/.exec(await client.info('commandstats'))?.[1] ?? 0);

  it('the L1 misses of every request arriving in one tick go to Redis in one MGET; only what Redis lacks is computed', async () => {
    const g = await start({ cache: { l1: { enabled: false } } });
    const scorer = g.registry.resolve('churn').scorer;
    const known = Array.from({ length: 4 }, () => freshRecord());
    const keysBefore = await client.dbsize();
    await scorer.score(known);
    await storedKeys(keysBefore + 4);
    const fresh = Array.from({ length: 6 }, () => freshRecord());
    const scoredBefore = metric(await metrics(g.url), 'ortline_rows_scored_total');
    const before = await mgetCalls();
    // Ten requests in the same event-loop turn, as ten connections' requests would arrive.
    const answers = await Promise.all([...known, ...fresh].map((r) => scorer.score([r])));
    expect(await mgetCalls()).toBe(before + 1);
    expect(answers.map((a) => a.source)).toEqual([...known.map(() => 'l2'), ...fresh.map(() => 'miss')]);
    expect(metric(await metrics(g.url), 'ortline_rows_scored_total') - scoredBefore).toBe(6);
    // And one `instances` request of 50 rows is one MGET, not 50.
    const before2 = await mgetCalls();
    await scorer.score(Array.from({ length: 50 }, () => freshRecord()));
    expect(await mgetCalls()).toBe(before2 + 1);
  });
});

describe('TTL', () => {
  it('an L1 entry expires after cache.l1.ttlMs and L2 answers; after cache.l2.ttlMs Redis has forgotten it too', async () => {
    const g = await start({ cache: { l1: { ttlMs: 300 }, l2: { ttlMs: 1500 } } });
    const rec = freshRecord();
    const keysBefore = await client.dbsize();
    const t0 = performance.now();
    expect((await predict(g.url, rec)).cache).toBe('miss');
    expect((await predict(g.url, rec)).cache).toBe('l1');
    await storedKeys(keysBefore + 1);
    const [key] = await client
      .keys('ortline:{churn:1}:*')
      .then((ks) => Promise.all(ks.map(async (k) => [k, await client.pttl(k)] as const)))
      .then((x) => x.filter(([, t]) => t > 0 && t <= 1500).map(([k]) => k));
    expect(key).toBeDefined();
    await new Promise((r) => setTimeout(r, 450 - (performance.now() - t0)));
    expect((await predict(g.url, rec)).cache).toBe('l2'); // L1 expired at 300 ms, L2 lives until 1500 ms
    await new Promise((r) => setTimeout(r, 1900 - (performance.now() - t0)));
    expect(await client.exists(key!)).toBe(0);
    expect((await predict(g.url, rec)).cache).toBe('miss'); // the L1 copy from the L2 hit expired too
  });
});

describe('two gateway processes sharing L2', () => {
  it('one computes, the other answers from Redis without running the model', async () => {
    const a = await start();
    const b = await startChild(['--models-dir', repo.dir, '--cache-l2-timeout-ms', '200'], { REDIS_URL: redis.url });
    try {
      const rec = freshRecord();
      const keysBefore = await client.dbsize();
      const first = await predict(a.url, rec);
      expect(first.cache).toBe('miss');
      await storedKeys(keysBefore + 1);
      const scoredBefore = metric(await metrics(b.url), 'ortline_rows_scored_total');
      const second = await predict(b.url, rec);
      expect(second.cache).toBe('l2');
      expect(second.body.churn_probability).toBe(first.body.churn_probability);
      const text = await metrics(b.url);
      expect(metric(text, 'ortline_rows_scored_total')).toBe(scoredBefore); // b ran no model for it
      expect(metric(text, 'ortline_cache_hits_total', { tier: 'l2' })).toBe(1);
      // And back: what b computes, a reads from Redis (a's L1 does not have it).
      const other = freshRecord();
      const keys2 = await client.dbsize();
      expect((await predict(b.url, other)).cache).toBe('miss');
      await storedKeys(keys2 + 1);
      expect((await predict(a.url, other)).cache).toBe('l2');
    } finally {
      b.proc.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    }
  });
});

describe("a new model version never serves an old version's answer", () => {
  it('version 2 of the same features is a miss with its own score, in L1 and in L2', async () => {
    const g = await start();
    const rec = freshRecord();
    const v1 = await predict(g.url, rec, {}, '/v1/models/churn/versions/1/predict');
    const v2 = await predict(g.url, rec, {}, '/v1/models/churn/versions/2/predict');
    expect(v1.cache).toBe('miss');
    expect(v2.cache).toBe('miss');
    expect(v2.body.model_version).toBe('2');
    expect(Math.abs(v2.body.churn_probability - (1 - v1.body.churn_probability))).toBeLessThan(1e-6);
    expect(Math.abs(v2.body.churn_probability - v1.body.churn_probability)).toBeGreaterThan(0.1);
    expect((await predict(g.url, rec, {}, '/v1/models/churn/versions/1/predict')).body.churn_probability).toBe(
      v1.body.churn_probability,
    );
    expect((await predict(g.url, rec, {}, '/v1/models/churn/versions/2/predict')).body.churn_probability).toBe(
      v2.body.churn_probability,
    );

    // A redeploy that makes version 2 active, sharing the same Redis: v2's answer or a miss, never v1's.
    const fresh = freshRecord();
    const keysBefore = await client.dbsize();
    const old = await predict(g.url, fresh); // active = 1: fills L2 under version 1
    await storedKeys(keysBefore + 1);
    const repo2 = twoVersionRepo('2');
    try {
      const g2 = await gatewayOn(repo2.dir, { redisUrl: redis.url, cache: { l1: { enabled: false }, l2: L2 } });
      gateways.push(g2);
      const now = await predict(g2.url, fresh);
      expect(now.cache).toBe('miss');
      expect(now.body.model_version).toBe('2');
      expect(Math.abs(now.body.churn_probability - (1 - old.body.churn_probability))).toBeLessThan(1e-6);
    } finally {
      repo2.cleanup();
    }
  });
});

describe('per-request opt-out', () => {
  let g: Gateway;
  beforeAll(async () => {
    g = await start();
  });

  it('Cache-Control: no-cache scores fresh (the model runs) and refreshes the cache', async () => {
    const rec = freshRecord();
    await predict(g.url, rec);
    expect((await predict(g.url, rec)).cache).toBe('l1');
    const before = metric(await metrics(g.url), 'ortline_rows_scored_total');
    const fresh = await predict(g.url, rec, { 'cache-control': 'no-cache' });
    expect(fresh.cache).toBe('bypass');
    expect(metric(await metrics(g.url), 'ortline_rows_scored_total')).toBe(before + 1);
    expect((await predict(g.url, rec)).cache).toBe('l1');
  });

  it('Cache-Control: no-store neither reads nor writes either tier', async () => {
    const rec = freshRecord();
    const keysBefore = await client.dbsize();
    expect((await predict(g.url, rec, { 'cache-control': 'no-store' })).cache).toBe('bypass');
    await new Promise((r) => setTimeout(r, 100));
    expect(await client.dbsize()).toBe(keysBefore);
    expect((await predict(g.url, rec)).cache).toBe('miss');
  });

  it('WebSocket: "cache": false in a frame runs the model; without it the cached score answers', async () => {
    const rec = freshRecord();
    await predict(g.url, rec); // cached now
    const ws = new WebSocket(`${g.url.replace('http', 'ws')}/v1/stream?model=churn`);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const answers = new Map<unknown, any>();
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      answers.set(m.id, m);
    });
    const ask = async (frame: Record<string, unknown>) => {
      ws.send(JSON.stringify(frame));
      expect(await eventually(async () => answers.has(frame.id), 5000)).toBe(true);
      return answers.get(frame.id);
    };
    try {
      const m0 = await metrics(g.url);
      const scored0 = metric(m0, 'ortline_rows_scored_total');
      const hit = await ask({ id: 1, record: rec });
      expect(metric(await metrics(g.url), 'ortline_rows_scored_total')).toBe(scored0);
      const fresh = await ask({ id: 2, record: rec, cache: false });
      expect(fresh.prediction.churn_probability).toBe(hit.prediction.churn_probability);
      const m1 = await metrics(g.url);
      expect(metric(m1, 'ortline_rows_scored_total')).toBe(scored0 + 1);
      expect(
        metric(m1, 'ortline_cache_bypass_total', { directive: 'no-cache' }) -
          metric(m0, 'ortline_cache_bypass_total', { directive: 'no-cache' }),
      ).toBe(1);
      const bad = await ask({ id: 3, record: rec, cache: 'sometimes' });
      expect(bad.error.code).toBe('INVALID_REQUEST');
    } finally {
      ws.close();
    }
  });
});

describe('admin flush', () => {
  it('needs a configured token: 403 without one, 401 with a wrong one', async () => {
    const plain = gateways[0]!;
    const r = await fetch(`${plain.url}/admin/v1/models/churn/cache`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer x' },
    });
    expect(r.status).toBe(403);
    expect(((await r.json()) as any).error.code).toBe('ADMIN_DISABLED');
    const g = await start({ admin: { token: 'sesame' } });
    const wrong = await fetch(`${g.url}/admin/v1/models/churn/cache`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toContain('Bearer');
    expect((await fetch(`${g.url}/admin/v1/models/churn/cache`, { method: 'DELETE' })).status).toBe(401);
    const unknown = await fetch(`${g.url}/admin/v1/models/nope/cache`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer sesame' },
    });
    expect(unknown.status).toBe(404);
    expect((await fetch(`${g.url}/admin/v1/models/churn/cache`, { method: 'GET' })).status).toBe(405);
  });

  it('DELETE /admin/v1/models/{name}[/versions/{v}]/cache empties this L1 and the shared L2 for that model (version)', async () => {
    const g = await start({ admin: { token: 'sesame' } });
    const auth = { authorization: 'Bearer sesame' };
    const rec = freshRecord();
    const keysBefore = await client.dbsize();
    await predict(g.url, rec, {}, '/v1/models/churn/versions/1/predict');
    await predict(g.url, rec, {}, '/v1/models/churn/versions/2/predict');
    await storedKeys(keysBefore + 2);
    await client.set('unrelated', '1');

    const one = await fetch(`${g.url}/admin/v1/models/churn/versions/2/cache`, { method: 'DELETE', headers: auth });
    expect(one.status).toBe(200);
    const oneBody = (await one.json()) as any;
    expect(oneBody).toMatchObject({ model: 'churn', version: '2' });
    expect(oneBody.l1_deleted).toBeGreaterThanOrEqual(1);
    expect(oneBody.l2_deleted).toBeGreaterThanOrEqual(1);
    expect(await client.keys('ortline:{churn:2}:*')).toEqual([]);
    expect((await predict(g.url, rec, {}, '/v1/models/churn/versions/1/predict')).cache).toBe('l1');
    expect((await predict(g.url, rec, {}, '/v1/models/churn/versions/2/predict')).cache).toBe('miss');

    const all = await fetch(`${g.url}/admin/v1/models/churn/cache`, { method: 'DELETE', headers: auth });
    expect(all.status).toBe(200);
    expect(((await all.json()) as any).l2_deleted).toBeGreaterThanOrEqual(1);
    expect(await client.keys('ortline:{churn:*')).toEqual([]);
    expect(await client.get('unrelated')).toBe('1');
    expect((await predict(g.url, rec, {}, '/v1/models/churn/versions/1/predict')).cache).toBe('miss');
  });
});

describe('metrics', () => {
  it('count hits and misses per tier, and report the breaker, the connection and L1 entries and bytes', async () => {
    const g = await start();
    const rec = freshRecord();
    await predict(g.url, rec);
    await predict(g.url, rec);
    await predict(g.url, rec);
    const text = await metrics(g.url);
    const labels = { model: 'churn', version: '1' };
    expect(metric(text, 'ortline_cache_hits_total', { tier: 'l1', ...labels })).toBe(2);
    expect(metric(text, 'ortline_cache_misses_total', { tier: 'l1', ...labels })).toBe(1);
    expect(metric(text, 'ortline_cache_misses_total', { tier: 'l2', ...labels })).toBe(1);
    expect(metric(text, 'ortline_cache_lookup_duration_seconds_count', { tier: 'l1' })).toBe(3);
    expect(metric(text, 'ortline_cache_lookup_duration_seconds_count', { tier: 'l2' })).toBe(1);
    expect(metric(text, 'ortline_cache_breaker_state')).toBe(0);
    expect(metric(text, 'ortline_cache_l2_connected')).toBe(1);
    expect(metric(text, 'ortline_cache_bypass_total')).toBe(0); // the warm-up is not counted
    const entries = metric(text, 'ortline_cache_l1_entries');
    expect(entries).toBeGreaterThanOrEqual(1);
    // Every key of churn/1 is `ortline:{churn:1}:` + 22 characters: 40, plus the fixed overhead.
    expect(metric(text, 'ortline_cache_l1_bytes')).toBe(entries * (40 + 150));
  });

  it('without REDIS_URL there is no L2: no Redis metrics, L1 still answers', async () => {
    const g = await gatewayOn(repo.dir);
    gateways.push(g);
    const rec = freshRecord();
    expect((await predict(g.url, rec)).cache).toBe('miss');
    expect((await predict(g.url, rec)).cache).toBe('l1');
    const text = await metrics(g.url);
    expect(text).not.toMatch(/^ortline_cache_breaker_state /m);
    expect(text).not.toMatch(/^ortline_cache_l2_connected /m);
  });

  it('with both tiers off the gateway answers without the header (straight to the batcher)', async () => {
    const g = await gatewayOn(repo.dir, { cache: { l1: { enabled: false } } });
    gateways.push(g);
    const r = await predict(g.url, rows[0]!.features);
    expect(r.status).toBe(200);
    expect(r.cache).toBeNull();
    expect(g.cache).toBeUndefined();
  });
});
