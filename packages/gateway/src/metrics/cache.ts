// The cache tiers: row counts per tier and model version; L2 errors, lookup times and the breaker
// per process; L1 size and L2 connection read at scrape time.
import { Gauge, type Registry } from 'prom-client';
import { BREAKER_GAUGE } from '../cache/breaker.js';
import type { FastCounter } from './fast-counter.js';
import { registerCounter, registerHistogram } from './register.js';
import type { CacheGaugeSource, CacheMetric, L2Metric, ModelLabels } from './types.js';

// From an L1 lookup (microseconds) to an L2 lookup that ran into its budget (milliseconds).
const CACHE_BUCKETS = [
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
  0.05, 0.1, 0.25, 1,
];

export function cacheMetrics(
  registry: Registry,
  cacheSource: () => CacheGaugeSource | undefined,
  withL2: boolean,
): { cache(labels: ModelLabels): CacheMetric; l2: L2Metric; hits: FastCounter; misses: FastCounter } {
  const counter = (name: string, help: string) => registerCounter(registry, name, help);
  const hits = counter(
    'ortline_cache_hits_total',
    'Rows answered from a cache tier (tier="l1" in process, "l2" Redis), per model version.',
  );
  const misses = counter(
    'ortline_cache_misses_total',
    'Rows a cache tier did not have (an L1 miss goes on to L2 when there is one, an L2 miss to inference).',
  );
  const skipped = counter(
    'ortline_cache_l2_skipped_total',
    'Rows that went to inference without asking L2: reason="breaker_open" or "not_connected".',
  );
  const bypassed = counter(
    'ortline_cache_bypass_total',
    'Requests that opted out of the cache: directive="no-cache" (fresh score, cache refreshed) or "no-store" (not read, not written).',
  );
  const l2Errors = counter(
    'ortline_cache_errors_total',
    'Failed Redis calls: op="lookup" | "store" | "flush", reason="timeout" (past cache.l2.timeoutMs) | "error" | "not_connected" | "backlog" (a store dropped: too many still unanswered). None of them fails a request.',
  );
  const breakerMoves = counter(
    'ortline_cache_breaker_transitions_total',
    'Circuit breaker state changes, by the state entered.',
  );
  const lookupTime = registerHistogram(
    registry,
    'ortline_cache_lookup_duration_seconds',
    'Cache lookup time: tier="l1" per request (validate, hash, look up), tier="l2" per micro-batch MGET (until its answer, its error, or the budget cache.l2.timeoutMs).',
    CACHE_BUCKETS,
  );
  const l1TimeChild = lookupTime.child({ tier: 'l1' });
  const l2TimeChild = lookupTime.child({ tier: 'l2' });
  new Gauge({
    name: 'ortline_cache_l1_entries',
    help: 'Predictions held in L1.',
    registers: [registry],
    collect() {
      this.set(cacheSource()?.l1Entries ?? 0);
    },
  });
  new Gauge({
    name: 'ortline_cache_l1_bytes',
    help: 'Estimated bytes held in L1 (key length + a fixed per-entry overhead; see cache.l1.maxBytes).',
    registers: [registry],
    collect() {
      this.set(cacheSource()?.l1Bytes ?? 0);
    },
  });
  if (withL2) {
    new Gauge({
      name: 'ortline_cache_l2_connected',
      help: '1 when the Redis client is connected and ready, 0 when not; absent without L2.',
      registers: [registry],
      collect() {
        const c = cacheSource()?.l2Connected;
        if (c !== undefined) this.set(c ? 1 : 0);
      },
    });
    new Gauge({
      name: 'ortline_cache_breaker_state',
      help: 'L2 circuit breaker: 0 closed (Redis used), 1 half-open (one probe in flight), 2 open (Redis not called); absent without L2.',
      registers: [registry],
      collect() {
        const b = cacheSource()?.breaker;
        if (b !== undefined) this.set(BREAKER_GAUGE[b]);
      },
    });
  }
  const l2Metric: L2Metric = {
    lookup(seconds) {
      l2TimeChild.observe(seconds);
    },
    error(op, reason) {
      l2Errors.child({ tier: 'l2', op, reason }).inc();
    },
    breaker(to) {
      breakerMoves.child({ to }).inc();
    },
  };

  return {
    hits,
    misses,
    cache(labels) {
      const mv = { model: labels.model, version: labels.version };
      const h1 = hits.child({ tier: 'l1', ...mv });
      const m1 = misses.child({ tier: 'l1', ...mv });
      const h2 = hits.child({ tier: 'l2', ...mv });
      const m2 = misses.child({ tier: 'l2', ...mv });
      const skipOpen = skipped.child({ reason: 'breaker_open', ...mv });
      const skipDown = skipped.child({ reason: 'not_connected', ...mv });
      const noCache = bypassed.child({ directive: 'no-cache', ...mv });
      const noStore = bypassed.child({ directive: 'no-store', ...mv });
      return {
        l1(hit, miss, seconds) {
          h1.value += hit;
          m1.value += miss;
          l1TimeChild.observe(seconds);
        },
        l2(hit, miss) {
          h2.value += hit;
          m2.value += miss;
        },
        l2Skipped(rows, reason) {
          (reason === 'breaker_open' ? skipOpen : skipDown).value += rows;
        },
        bypass(directive) {
          (directive === 'no-cache' ? noCache : noStore).value++;
        },
      };
    },
    l2: l2Metric,
  };
}
