// Redis failing under the gateway, for real: started here on a free port, then killed (SIGKILL),
// restarted on the same port, frozen (SIGSTOP) and thawed (SIGCONT). The promise under test:
// no request fails because of Redis, none waits on it past the budget, the breaker stops the
// calls, and L2 comes back by itself.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../src/index.js';
import { eventually, freshRecord, gatewayOn, metric, metrics, predict, twoVersionRepo } from './cache-helpers.js';
import { freePort } from './helpers.js';
import { RedisServer } from './redis.js';

const repo = twoVersionRepo('1');
let redis: RedisServer | undefined;
let gateway: Gateway | undefined;

afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
  await redis?.stop();
  redis = undefined;
});
afterAll(() => repo.cleanup());

/** Observations of the L2 lookup histogram above `seconds` (bucket bounds: see metrics.ts). */
function l2LookupsAbove(text: string, seconds: number): number {
  return (
    metric(text, 'ortline_cache_lookup_duration_seconds_count', { tier: 'l2' }) -
    metric(text, 'ortline_cache_lookup_duration_seconds_bucket', { tier: 'l2', le: String(seconds) })
  );
}

/** `workers` clients posting in a loop until stop(): half the time a record of a small hot set, else a fresh one. */
function load(url: string, workers: number) {
  const hot = Array.from({ length: 20 }, () => freshRecord());
  const results: { status: number; ms: number; cache: string | null; at: number }[] = [];
  const errors: unknown[] = [];
  let running = true;
  const loops = Array.from({ length: workers }, async (_, w) => {
    let i = w;
    while (running) {
      const rec = i++ % 2 === 0 ? hot[i % hot.length]! : freshRecord();
      try {
        const r = await predict(url, rec);
        results.push({ status: r.status, ms: r.ms, cache: r.cache, at: performance.now() });
      } catch (err) {
        errors.push(err);
      }
    }
  });
  return {
    results,
    errors,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis down at start-up', () => {
  it('the gateway starts and is ready without Redis, answers, and starts using L2 once Redis appears', async () => {
    const port = await freePort();
    gateway = await gatewayOn(repo.dir, {
      redisUrl: `redis://127.0.0.1:${port}`,
      cache: { l1: { enabled: false }, l2: { timeoutMs: 20 } },
    });
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    const rec = freshRecord();
    const a = await predict(gateway.url, rec);
    expect(a.status).toBe(200);
    expect(a.cache).toBe('miss');
    const text = await metrics(gateway.url);
    expect(metric(text, 'ortline_cache_l2_connected')).toBe(0);
    expect(metric(text, 'ortline_cache_l2_skipped_total', { reason: 'not_connected' })).toBeGreaterThanOrEqual(1);

    redis = await RedisServer.start(port);
    // ioredis reconnects by itself (back-off up to 1 s); then a miss is stored and the next read hits.
    const back = await eventually(async () => {
      await predict(gateway!.url, rec);
      return (await predict(gateway!.url, rec)).cache === 'l2';
    }, 10_000);
    expect(back).toBe(true);
    expect(metric(await metrics(gateway.url), 'ortline_cache_l2_connected')).toBe(1);
  });
});

describe('Redis killed with SIGKILL under load, then restarted on the same port', () => {
  it('zero failed requests, no L2 wait past the budget, and L2 resumes by itself', async () => {
    redis = await RedisServer.start();
    const budgetMs = 20;
    gateway = await gatewayOn(repo.dir, {
      redisUrl: redis.url,
      cache: { l1: { enabled: false }, l2: { timeoutMs: budgetMs, breakerThreshold: 3, breakerCooldownMs: 200 } },
    });
    const g = gateway;
    const traffic = load(g.url, 16);
    await sleep(700);
    const killedAt = performance.now();
    await redis.signal('SIGKILL');
    await sleep(1200);
    await traffic.stop();

    const { results, errors } = traffic;
    expect(errors).toEqual([]);
    expect(results.filter((r) => r.status !== 200)).toEqual([]);
    const before = results.filter((r) => r.at < killedAt);
    const after = results.filter((r) => r.at > killedAt + 50);
    expect(before.some((r) => r.cache === 'l2')).toBe(true); // L2 was doing its job
    expect(after.length).toBeGreaterThan(50);
    expect(after.every((r) => r.cache === 'miss')).toBe(true);
    // Bounded: no request hung on the dead Redis (a generous ceiling: 16 clients on 2 busy cores).
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(2000);
    const text = await metrics(g.url);
    // The budget held: no L2 lookup took more than the budget plus timer slack on a busy machine.
    expect(l2LookupsAbove(text, 0.1)).toBe(0);
    // The dead Redis was noticed: lookups in flight failed, later ones were skipped (a series with no
    // events yet is absent: 0).
    expect(
      (metric(text, 'ortline_cache_l2_skipped_total', { reason: 'not_connected' }) || 0) +
        (metric(text, 'ortline_cache_errors_total', { op: 'lookup' }) || 0),
    ).toBeGreaterThan(0);
    expect(metric(text, 'ortline_cache_l2_connected')).toBe(0);

    await redis.restart();
    const rec = freshRecord();
    const resumed = await eventually(async () => {
      await predict(g.url, rec);
      return (await predict(g.url, rec)).cache === 'l2';
    }, 10_000);
    expect(resumed).toBe(true);
    const after2 = await metrics(g.url);
    expect(metric(after2, 'ortline_cache_l2_connected')).toBe(1);
    expect(metric(after2, 'ortline_cache_breaker_state')).toBe(0);
  });
});

describe('Redis frozen with SIGSTOP', () => {
  it('each request waits at most the budget, the breaker opens and stops the calls; after SIGCONT a probe closes it', async () => {
    redis = await RedisServer.start();
    const budgetMs = 25;
    const cooldownMs = 1500;
    gateway = await gatewayOn(repo.dir, {
      redisUrl: redis.url,
      cache: {
        l1: { enabled: false },
        l2: { timeoutMs: budgetMs, breakerThreshold: 3, breakerCooldownMs: cooldownMs },
      },
    });
    const g = gateway;
    const known = freshRecord();
    expect((await predict(g.url, known)).cache).toBe('miss');
    expect(await eventually(async () => (await predict(g.url, known)).cache === 'l2', 3000)).toBe(true);
    const m0 = await metrics(g.url);

    await redis.signal('SIGSTOP');
    const frozenAt = performance.now();
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await predict(g.url, freshRecord()));
    const spent = performance.now() - frozenAt;
    expect(spent).toBeLessThan(cooldownMs); // all 8 within one cooldown: no probe yet

    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(answers.map((a) => a.cache)).toEqual(Array(8).fill('miss'));
    // The first three waited for the budget (and no longer); then the breaker was open.
    for (const a of answers.slice(0, 3)) {
      expect(a.ms).toBeGreaterThanOrEqual(budgetMs - 1);
      expect(a.ms).toBeLessThan(budgetMs + 400);
    }
    const m1 = await metrics(g.url);
    // A series that did not exist yet counts as 0 (label sets appear with their first event).
    const delta = (name: string, labels: Record<string, string> = {}) =>
      (metric(m1, name, labels) || 0) - (metric(m0, name, labels) || 0);
    expect(metric(m1, 'ortline_cache_breaker_state')).toBe(2);
    expect(delta('ortline_cache_errors_total', { op: 'lookup', reason: 'timeout' })).toBe(3);
    expect(delta('ortline_cache_lookup_duration_seconds_count', { tier: 'l2' })).toBe(3); // no Redis call while open
    expect(delta('ortline_cache_l2_skipped_total', { reason: 'breaker_open' })).toBe(5);
    expect(delta('ortline_cache_breaker_transitions_total', { to: 'open' })).toBe(1);
    expect(l2LookupsAbove(m1, 0.1)).toBe(0);
    // Answered while frozen: the SIGSTOPped server is still "connected" as far as TCP can tell.
    expect(metric(m1, 'ortline_cache_l2_connected')).toBe(1);

    await redis.signal('SIGCONT');
    // After the cooldown the next lookup is the probe; Redis answers it, the breaker closes, L2 serves.
    const closed = await eventually(async () => (await predict(g.url, known)).cache === 'l2', cooldownMs + 5000);
    expect(closed).toBe(true);
    const m2 = await metrics(g.url);
    expect(metric(m2, 'ortline_cache_breaker_state')).toBe(0);
    expect(metric(m2, 'ortline_cache_breaker_transitions_total', { to: 'closed' })).toBe(1);
  });
});
