// Watching the models. Drift, per model version: PSI per feature and of the predicted probability,
// and the rows in the window, computed from each version's drift window at scrape time (never on
// the request path); the distribution of predicted probabilities, counted as they are answered.
// The traffic log: rows written, rows dropped.
import { Gauge, type Registry } from 'prom-client';
import { registerCounter, registerHistogram } from './register.js';
import type { DriftSource, ModelLabels, OutcomeMetric, RiskBanding, TrafficLogMetric } from './types.js';

const PROBABILITY_BUCKETS = Array.from({ length: 20 }, (_, i) => (i + 1) / 20);

export function monitorMetrics(
  registry: Registry,
  sources: () => Iterable<DriftSource>,
): { outcomes(labels: ModelLabels, risk: RiskBanding): OutcomeMetric; trafficLog: TrafficLogMetric } {
  new Gauge({
    name: 'ortline_drift_window_rows',
    help: 'Rows in the drift window, per model version.',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
    collect() {
      // One snapshot per version feeds all three gauges. This gauge is registered first, so the
      // registry collects it (and fills the other two) before it reads them; unloaded versions drop out.
      this.reset();
      feature.reset();
      prediction.reset();
      for (const s of sources()) {
        if (s.drift === null) continue;
        const snap = s.drift.snapshot();
        const l = s.labels;
        this.set({ model: l.model, version: l.version }, snap.rows);
        for (const f of snap.features)
          if (f.psi !== null) feature.set({ model: l.model, version: l.version, feature: f.name }, f.psi);
        if (snap.prediction.psi !== null) prediction.set({ model: l.model, version: l.version }, snap.prediction.psi);
      }
    },
  });
  const feature = new Gauge({
    name: 'ortline_feature_drift_psi',
    help: "Population Stability Index of a feature over the drift window against the model card's reference (< 0.1 stable, 0.1-0.25 watch, > 0.25 drift). Absent while the window holds fewer than drift.minRows rows.",
    labelNames: ['model', 'version', 'feature'] as const,
    registers: [registry],
  });
  const prediction = new Gauge({
    name: 'ortline_prediction_drift_psi',
    help: "Population Stability Index of the predicted probability over the drift window against the model card's reference scores. Absent while the window holds fewer than drift.minRows rows.",
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const probability = registerHistogram(
    registry,
    'ortline_prediction_probability',
    'Predicted probabilities answered (and scored for shadow comparison), per model version.',
    PROBABILITY_BUCKETS,
  );
  const risks = registerCounter(
    registry,
    'ortline_risk_predictions_total',
    "Predictions answered (and scored for shadow comparison), per model version and risk category (the card's thresholds; `none` without them).",
  );
  const logged = registerCounter(registry, 'ortline_traffic_log_rows_total', 'Rows written to the traffic log.');
  const dropped = registerCounter(
    registry,
    'ortline_traffic_log_dropped_rows_total',
    'Sampled rows not written to the traffic log: full (its queue was full), error (the write failed).',
  );
  const written = logged.child({});
  const full = dropped.child({ reason: 'full' });
  const error = dropped.child({ reason: 'error' });
  return {
    trafficLog: {
      written: (n) => written.inc(n),
      dropped: (n, reason) => (reason === 'full' ? full : error).inc(n),
    },
    outcomes(labels, risk) {
      const child = probability.child({ model: labels.model, version: labels.version });
      const names = risk.categories.length > 0 ? risk.categories : ['none'];
      const byBand = names.map((r) => risks.child({ model: labels.model, version: labels.version, risk: r }));
      return (scores) => {
        for (let i = 0; i < scores.length; i++) {
          const p = scores[i]!;
          child.observe(p);
          byBand[risk.band(p)]!.inc(1);
        }
      };
    },
  };
}
