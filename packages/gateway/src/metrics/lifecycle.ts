// The model lifecycle: each version's state (read at scrape time), predictions by the route that
// chose their version, how long loads take, why versions were refused, and routing changes.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { registerCounter } from './register.js';
import type { LifecycleMetric, ModelLabels, PredictionMetric, ShadowMetric, VersionStateSource } from './types.js';

const LOAD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function lifecycleMetrics(
  registry: Registry,
  states: () => Iterable<VersionStateSource>,
): {
  lifecycle: LifecycleMetric;
  predictions(labels: ModelLabels): PredictionMetric;
  shadow(labels: ModelLabels): ShadowMetric;
} {
  new Gauge({
    name: 'ortline_model_version_info',
    help: 'One series per known model version, 1, labelled with its state (loading, ready, failed, draining).',
    labelNames: ['model', 'version', 'state'] as const,
    registers: [registry],
    collect() {
      // Versions unloaded since the last scrape drop out; a state change replaces the series.
      this.reset();
      for (const s of states()) this.set({ model: s.model, version: s.version, state: s.state }, 1);
    },
  });
  const predictions = registerCounter(
    registry,
    'ortline_predictions_total',
    'Predictions answered, by model, version and the route that chose the version (active, canary, pinned: the request named it; shadow: scored for comparison only).',
  );
  const loads = new Histogram({
    name: 'ortline_model_load_duration_seconds',
    help: 'Time to load a model version and pass its gate (parity rows, warm-up), by outcome.',
    labelNames: ['model', 'outcome'] as const,
    buckets: LOAD_BUCKETS,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'ortline_model_gate_failures_total',
    help: 'Model versions refused by the gate, by reason (card_invalid, load_failed, schema_mismatch, parity_failed, warmup_failed).',
    labelNames: ['model', 'reason'] as const,
    registers: [registry],
  });
  const changes = new Counter({
    name: 'ortline_model_routing_changes_total',
    help: 'Routing changes applied, by kind (promote: a new active version, rollback, canary, shadow).',
    labelNames: ['model', 'kind'] as const,
    registers: [registry],
  });
  const shadowRows = registerCounter(
    registry,
    'ortline_shadow_rows_total',
    'Rows a shadow version scored for comparison with the live answer (labelled with the shadow version).',
  );
  const shadowDiff = registerCounter(
    registry,
    'ortline_shadow_abs_diff_sum',
    'Sum over shadow rows of |shadow probability - live probability|; divided by ortline_shadow_rows_total it is the mean absolute difference.',
  );
  const shadowDisagree = registerCounter(
    registry,
    'ortline_shadow_risk_disagreements_total',
    'Shadow rows whose risk category differs from the live answer.',
  );
  const shadowDropped = registerCounter(
    registry,
    'ortline_shadow_dropped_rows_total',
    'Shadow rows not scored: busy (the live version has a backlog), full (shadow.maxQueueRows), error (the shadow refused them), unloaded.',
  );
  return {
    shadow(labels) {
      const l = { model: labels.model, version: labels.version };
      const rows = shadowRows.child(l);
      const diff = shadowDiff.child(l);
      const disagree = shadowDisagree.child(l);
      return {
        scored(n, absDiffSum, disagreements) {
          rows.inc(n);
          diff.inc(absDiffSum);
          disagree.inc(disagreements);
        },
        dropped: (n, reason) => shadowDropped.child({ ...l, reason }).inc(n),
      };
    },
    lifecycle: {
      loaded: (model, seconds) => loads.observe({ model, outcome: 'ready' }, seconds),
      rejected(model, reason, seconds) {
        loads.observe({ model, outcome: 'failed' }, seconds);
        rejected.inc({ model, reason });
      },
      routed: (model, kind) => changes.inc({ model, kind }),
    },
    predictions(labels) {
      const child = (route: string) => predictions.child({ model: labels.model, version: labels.version, route });
      const active = child('active');
      const canary = child('canary');
      const pinned = child('pinned');
      const shadow = child('shadow');
      return {
        active: (n) => active.inc(n),
        canary: (n) => canary.inc(n),
        pinned: (n) => pinned.inc(n),
        shadow: (n) => shadow.inc(n),
      };
    },
  };
}
