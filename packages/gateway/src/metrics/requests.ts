// Requests: one histogram of answer times by route, model version and status. Children are
// resolved once per (route, model version, status) and cached, so recording a request is two map
// lookups and an observe.
import type { Registry } from 'prom-client';
import type { FastHistogram, HistogramChild } from './fast-histogram.js';
import { registerHistogram } from './register.js';
import type { ModelLabels, RouteMetric } from './types.js';

/**
 * The routes that answer predictions (v1 over HTTP, OIP inference, WebSocket frames): the service's
 * load, as the live statistics, the dashboards and the alert rules count it.
 */
export const SCORING_ROUTES = ['v1_predict', 'v2_infer', 'ws_stream'] as const;

const REQUEST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

export function requestMetrics(registry: Registry): { route(name: string): RouteMetric; histogram: FastHistogram } {
  const requests = registerHistogram(
    registry,
    'ortline_request_duration_seconds',
    'Time from the request (or WebSocket frame) arriving to its answer being written, by route, model, version and HTTP status; _count is the request count.',
    REQUEST_BUCKETS,
  );
  return {
    histogram: requests,
    route(name) {
      // Weak: a version unloaded takes its entry with it; loaded again, its new labels object finds
      // the same series (the histogram shares children per label set).
      const byModel = new WeakMap<ModelLabels, Map<number, HistogramChild>>();
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
  };
}
