// The stream's Prometheus series, on the same registry as the gateway's model-version series
// (modelMetrics: native runs, rows per run, rows scored, queue): records in and out by outcome,
// re-deliveries skipped, commit failures, end-to-end latency from the record's timestamp to the
// broker's acknowledgement of its answer, lag per assigned partition, readiness.
import { modelMetrics, registerHistogram } from '@ortline/gateway';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Delivered, StreamCounts } from './stream-scorer.js';

// From a record answered within its fetch to one that waited behind a long backlog.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface StreamMetricSource {
  readonly model: string;
  readonly version: string;
  readonly topic: string;
  counts(): StreamCounts;
  ready(): boolean;
  queueRows(): number;
  inFlight(): number;
  runs(): { readonly inline: number; readonly pool: number };
  lag(): Promise<Map<number, number>>;
}

export interface StreamMetrics {
  readonly registry: Registry;
  /** For the Batcher's onBatch. */
  readonly batch: (rows: number, durationMs: number) => void;
  /** For the scorer's onDelivered. */
  readonly delivered: (d: Delivered) => void;
}

export function streamMetrics(source: StreamMetricSource): StreamMetrics {
  const registry = new Registry();
  const labels = { model: source.model, version: source.version };
  const models = modelMetrics(
    registry,
    () => [
      {
        labels,
        ready: source.ready(),
        queueRows: source.queueRows(),
        inFlight: source.inFlight(),
        runs: source.runs(),
      },
    ],
    0,
  );
  const fromCounts = (name: string, help: string, read: (c: StreamCounts) => Record<string, number>, label?: string) =>
    new Counter({
      name,
      help,
      labelNames: ['topic', ...(label ? [label] : [])],
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(read(source.counts())))
          this.inc(label ? { topic: source.topic, [label]: value } : { topic: source.topic }, n);
      },
    });
  fromCounts(
    'ortline_stream_records_in_total',
    'Records read from the input topic (re-deliveries skipped not included).',
    (c) => ({
      '': c.recordsIn,
    }),
  );
  fromCounts(
    'ortline_stream_records_out_total',
    'Records written back, acknowledged by the broker: outcome="answer" (the output topic) or "dead_letter".',
    (c) => ({ answer: c.answers, dead_letter: c.deadLetters }),
    'outcome',
  );
  fromCounts(
    'ortline_stream_records_skipped_total',
    'Records not scored because another answer covers them: reason="redelivered" (the client delivered it again in this run, after a group join) or "unassigned" (fetched before a rebalance moved its partition to another member).',
    (c) => ({ redelivered: c.duplicatesSkipped, unassigned: c.unassignedSkipped }),
    'reason',
  );
  fromCounts(
    'ortline_stream_commit_failures_total',
    'Offset commits refused (the partition moved to another member): those records may be answered twice.',
    (c) => ({ '': c.commitFailures }),
  );
  const latency = registerHistogram(
    registry,
    'ortline_stream_end_to_end_seconds',
    "From a record's timestamp to the broker's acknowledgement of its answer or dead letter.",
    LATENCY_BUCKETS,
  ).child({ topic: source.topic });
  new Gauge({
    name: 'ortline_stream_lag_records',
    help: "Records behind per assigned input partition: the log's end minus the committed offset.",
    labelNames: ['topic', 'partition'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const lag = await source.lag().catch(() => new Map<number, number>());
      for (const [partition, n] of lag) this.set({ topic: source.topic, partition: String(partition) }, n);
    },
  });
  new Gauge({
    name: 'ortline_stream_ready',
    help: '1 when the model is loaded, the group joined and the member is reading.',
    registers: [registry],
    collect() {
      this.set(source.ready() ? 1 : 0);
    },
  });
  const batch = models.batch(labels);
  return {
    registry,
    batch,
    delivered(d) {
      for (const t of d.timestamps) latency.observe(Math.max(0, d.ackedAt - Number(t)) / 1000);
    },
  };
}
