// Prometheus metrics (prom-client). Names carry their unit; per-model series carry
// {model, version}. Histogram children are resolved once per (route, model version, status) and
// cached, so recording a request is two map lookups and an observe (fast-histogram.ts). With metrics disabled every
// handle is a no-op chosen at start-up.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import type { BreakerState } from './cache/breaker.js';
import { BREAKER_GAUGE } from './cache/breaker.js';
import { FastCounter } from './fast-counter.js';
import { FastHistogram, type HistogramChild } from './fast-histogram.js';

/** Label values of one model version, created once when it is loaded. */
export interface ModelLabels {
  readonly model: string;
  readonly version: string;
}

/** Requests that name no known model are labelled with this, so clients cannot mint series. */
export const NO_MODEL: ModelLabels = Object.freeze({ model: '', version: '' });

export interface RouteMetric {
  observe(labels: ModelLabels, status: number, seconds: number): void;
}

export type BatchMetric = (rows: number, durationMs: number) => void;

export interface ModelGaugeSource {
  readonly labels: ModelLabels;
  readonly ready: boolean;
  readonly queueRows: number;
  readonly inFlight: number;
}

/** The cache stage of one model version. Counts are rows (one row = one prediction). */
export interface CacheMetric {
  /** One request through L1: rows that hit and missed, and the time of the L1 stage (validate, key, look up). */
  l1(hits: number, misses: number, seconds: number): void;
  /** L2's answer for this model version's rows in one lookup. */
  l2(hits: number, misses: number): void;
  /** Rows that did not ask L2: its breaker is open, or the client is not connected. */
  l2Skipped(rows: number, reason: L2SkipReason): void;
  /** A request that opted out (`Cache-Control: no-cache | no-store`, or the WebSocket flag). */
  bypass(directive: 'no-cache' | 'no-store'): void;
}

export type L2SkipReason = 'breaker_open' | 'not_connected';
export type L2Op = 'lookup' | 'store' | 'flush';
export type L2ErrorReason = 'timeout' | 'error' | 'not_connected' | 'backlog';

/** The Redis tier, shared by all model versions. */
export interface L2Metric {
  /** One MGET: time until the batch moved on (its answer, its error, or the budget). */
  lookup(seconds: number): void;
  error(op: L2Op, reason: L2ErrorReason): void;
  breaker(to: BreakerState): void;
}

/** What the cache gauges read at scrape time. */
export interface CacheGaugeSource {
  readonly l1Entries: number;
  readonly l1Bytes: number;
  /** Undefined when there is no L2. */
  readonly l2Connected: boolean | undefined;
  readonly breaker: BreakerState | undefined;
}

export interface Metrics {
  readonly enabled: boolean;
  readonly contentType: string;
  route(name: string): RouteMetric;
  batch(labels: ModelLabels): BatchMetric;
  cache(labels: ModelLabels): CacheMetric;
  readonly l2: L2Metric;
  wsConnections(delta: number): void;
  render(): Promise<string>;
  close(): void;
}

const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const INFERENCE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10_000];

// From an L1 lookup (microseconds) to an L2 lookup that ran into its budget (milliseconds).
const CACHE_BUCKETS = [
  0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
  0.05, 0.1, 0.25, 1,
];

const NOOP_ROUTE: RouteMetric = { observe() {} };
const NOOP_BATCH: BatchMetric = () => {};
const NOOP_CACHE: CacheMetric = { l1() {}, l2() {}, l2Skipped() {}, bypass() {} };
const NOOP_L2: L2Metric = { lookup() {}, error() {}, breaker() {} };

export function createMetrics(options: {
  enabled: boolean;
  defaultMetrics: boolean;
  models: () => Iterable<ModelGaugeSource>;
  wsPending: () => number;
  cache?: () => CacheGaugeSource | undefined;
  /** Whether an L2 is configured: its gauges exist only then. */
  l2?: boolean;
}): Metrics {
  if (!options.enabled) {
    return {
      enabled: false,
      contentType: 'text/plain',
      route: () => NOOP_ROUTE,
      batch: () => NOOP_BATCH,
      cache: () => NOOP_CACHE,
      l2: NOOP_L2,
      wsConnections() {},
      render: () => Promise.resolve(''),
      close() {},
    };
  }

  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  const histogram = (name: string, help: string, buckets: readonly number[]) => {
    const h = new FastHistogram(name, help, buckets);
    registry.registerMetric(h as unknown as Metric);
    return h;
  };
  const requests = histogram(
    'ortline_request_duration_seconds',
    'Time from the request (or WebSocket frame) arriving to its answer being written, by route, model, version and HTTP status; _count is the request count.',
    REQUEST_BUCKETS,
  );
  const inference = histogram(
    'ortline_inference_duration_seconds',
    'Duration of one native run (one micro-batch), off the event loop.',
    INFERENCE_BUCKETS,
  );
  const batchRows = histogram(
    'ortline_batch_rows',
    'Rows per native run: how well requests coalesce into micro-batches.',
    BATCH_BUCKETS,
  );
  const rowsScored = new Counter({
    name: 'ortline_rows_scored_total',
    help: 'Rows sent through native runs.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const models = options.models;
  new Gauge({
    name: 'ortline_queue_rows',
    help: 'Rows waiting for a native run (queue depth), per model version.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      for (const m of models()) this.set(m.labels, m.queueRows);
    },
  });
  new Gauge({
    name: 'ortline_runs_in_flight',
    help: 'Native runs in flight, per model version.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      for (const m of models()) this.set(m.labels, m.inFlight);
    },
  });
  new Gauge({
    name: 'ortline_model_ready',
    help: '1 when the model version is loaded and warmed.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      for (const m of models()) this.set(m.labels, m.ready ? 1 : 0);
    },
  });
  const ws = new Gauge({
    name: 'ortline_ws_connections',
    help: 'Open WebSocket connections on /v1/stream.',
    registers: [registry],
  });
  const wsPending = options.wsPending;
  new Gauge({
    name: 'ortline_ws_pending_answers',
    help: 'WebSocket answers held back because their socket is over ws.sendCapBytes (backpressure).',
    registers: [registry],
    collect() {
      this.set(wsPending());
    },
  });

  // Event-loop delay percentiles since the previous scrape: what a request waited for the loop.
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  new Gauge({
    name: 'ortline_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (1 = max).',
    labelNames: ['quantile'] as const,
    registers: [registry],
    collect() {
      if (loop.count > 0) {
        this.set({ quantile: '0.5' }, loop.percentile(50) / 1e9);
        this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9);
        this.set({ quantile: '1' }, loop.max / 1e9);
      }
      loop.reset();
    },
  });

  // Cache tiers. Row counts per tier and model version; L2 errors and the breaker per process.
  const counter = (name: string, help: string) => {
    const c = new FastCounter(name, help);
    registry.registerMetric(c as unknown as Metric);
    return c;
  };
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
  const lookupTime = histogram(
    'ortline_cache_lookup_duration_seconds',
    'Cache lookup time: tier="l1" per request (validate, hash, look up), tier="l2" per micro-batch MGET (until its answer, its error, or the budget cache.l2.timeoutMs).',
    CACHE_BUCKETS,
  );
  const l1TimeChild = lookupTime.child({ tier: 'l1' });
  const l2TimeChild = lookupTime.child({ tier: 'l2' });
  const cacheSource = options.cache ?? (() => undefined);
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
  if (options.l2) {
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
    enabled: true,
    contentType: registry.contentType,
    route(name) {
      const byModel = new Map<ModelLabels, Map<number, HistogramChild>>();
      return {
        observe(labels, status, seconds) {
          let byStatus = byModel.get(labels);
          if (!byStatus) {
            byStatus = new Map();
            byModel.set(labels, byStatus);
          }
          let child = byStatus.get(status);
          if (!child) {
            child = requests.child({
              route: name,
              model: labels.model,
              version: labels.version,
              status: String(status),
            });
            byStatus.set(status, child);
          }
          child.observe(seconds);
        },
      };
    },
    batch(labels) {
      const inf = inference.child({ model: labels.model, version: labels.version });
      const rows = batchRows.child({ model: labels.model, version: labels.version });
      const scored = rowsScored.labels(labels.model, labels.version);
      return (n, ms) => {
        inf.observe(ms / 1000);
        rows.observe(n);
        scored.inc(n);
      };
    },
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
    wsConnections(delta) {
      ws.inc(delta);
    },
    render: () => registry.metrics(),
    close() {
      loop.disable();
      registry.clear();
    },
  };
}
