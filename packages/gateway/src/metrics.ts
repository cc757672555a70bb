// Prometheus metrics (prom-client). Names carry their unit; per-model series carry
// {model, version}. Histogram children are resolved once per (route, model version, status) and
// cached, so recording a request is two map lookups and an observe (fast-histogram.ts). With metrics disabled every
// handle is a no-op chosen at start-up.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
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

export interface BatchMetric {
  (rows: number, durationMs: number): void;
}

export interface ModelGaugeSource {
  readonly labels: ModelLabels;
  readonly ready: boolean;
  readonly queueRows: number;
  readonly inFlight: number;
}

export interface Metrics {
  readonly enabled: boolean;
  readonly contentType: string;
  route(name: string): RouteMetric;
  batch(labels: ModelLabels): BatchMetric;
  wsConnections(delta: number): void;
  render(): Promise<string>;
  close(): void;
}

const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const INFERENCE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10_000];

const NOOP_ROUTE: RouteMetric = { observe() {} };
const NOOP_BATCH: BatchMetric = () => {};

export function createMetrics(options: { enabled: boolean; defaultMetrics: boolean; models: () => Iterable<ModelGaugeSource>; wsPending: () => number }): Metrics {
  if (!options.enabled) {
    return {
      enabled: false,
      contentType: 'text/plain',
      route: () => NOOP_ROUTE,
      batch: () => NOOP_BATCH,
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
  const inference = histogram('ortline_inference_duration_seconds', 'Duration of one native run (one micro-batch), off the event loop.', INFERENCE_BUCKETS);
  const batchRows = histogram('ortline_batch_rows', 'Rows per native run: how well requests coalesce into micro-batches.', BATCH_BUCKETS);
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
  const ws = new Gauge({ name: 'ortline_ws_connections', help: 'Open WebSocket connections on /v1/stream.', registers: [registry] });
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

  return {
    enabled: true,
    contentType: registry.contentType,
    route(name) {
      const byModel = new Map<ModelLabels, Map<number, HistogramChild>>();
      return {
        observe(labels, status, seconds) {
          let byStatus = byModel.get(labels);
          if (!byStatus) byModel.set(labels, (byStatus = new Map()));
          let child = byStatus.get(status);
          if (!child) {
            child = requests.child({ route: name, model: labels.model, version: labels.version, status: String(status) });
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
