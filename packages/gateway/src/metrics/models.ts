// Model versions: native runs (duration, rows per micro-batch, rows scored) and, read at scrape
// time, each version's queue, runs in flight and readiness.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { FastHistogram } from './fast-histogram.js';
import { registerHistogram } from './register.js';
import type { BatchMetric, DropMetric, ModelGaugeSource, ModelLabels } from './types.js';

const INFERENCE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10_000];

export function modelMetrics(
  registry: Registry,
  models: () => Iterable<ModelGaugeSource>,
  queueLimitRows: number,
): { batch(labels: ModelLabels): BatchMetric; dropped(labels: ModelLabels): DropMetric; batchRows: FastHistogram } {
  const inference = registerHistogram(
    registry,
    'ortline_inference_duration_seconds',
    'Duration of one native run (one micro-batch), inline or on a worker (ortline_native_runs_total says which).',
    INFERENCE_BUCKETS,
  );
  const batchRows = registerHistogram(
    registry,
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
  const rowsDropped = new Counter({
    name: 'ortline_rows_dropped_total',
    help: 'Rows taken out of the queue before their run: reason="deadline" (it passed while they waited, answered 504) or "cancelled" (the client went away).',
    labelNames: ['model', 'version', 'reason'] as const,
    registers: [registry],
  });
  // Read from each model version at scrape time.
  const perVersion = (name: string, help: string, read: (m: ModelGaugeSource) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['model', 'version'] as const,
      registers: [registry],
      collect() {
        // Unloaded versions drop out of the scrape.
        this.reset();
        for (const m of models()) this.set(m.labels, read(m));
      },
    });
  perVersion(
    'ortline_queue_rows',
    'Rows waiting for a native run (queue depth), per model version.',
    (m) => m.queueRows,
  );
  // The same for every version: alert rules divide the queue depth by it (saturation).
  new Gauge({
    name: 'ortline_queue_limit_rows',
    help: 'Most rows a model version may have waiting (batcher.maxQueueRows); past it requests get QUEUE_FULL.',
    registers: [registry],
  }).set(queueLimitRows);
  perVersion('ortline_runs_in_flight', 'Native runs in flight, per model version.', (m) => m.inFlight);
  // Counted by the scorer; read at scrape time (a counter set from its running totals).
  new Counter({
    name: 'ortline_native_runs_total',
    help: 'Native runs per model version, by where they ran: mode="inline" on the event loop (predicted cheaper than the hand-off to a worker, model.inlineBudgetMicros) or "pool" on a worker.',
    labelNames: ['model', 'version', 'mode'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const m of models()) {
        const { inline, pool } = m.runs;
        this.inc({ ...m.labels, mode: 'inline' }, inline);
        this.inc({ ...m.labels, mode: 'pool' }, pool);
      }
    },
  });
  perVersion('ortline_model_ready', '1 when the model version is loaded and warmed.', (m) => (m.ready ? 1 : 0));
  return {
    batchRows,
    dropped(labels) {
      const deadline = rowsDropped.labels(labels.model, labels.version, 'deadline');
      const cancelled = rowsDropped.labels(labels.model, labels.version, 'cancelled');
      return (reason, rows) => (reason === 'deadline' ? deadline : cancelled).inc(rows);
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
  };
}
