// What the deploy files are checked against: the metric names a real gateway exports, and the
// PromQL of dashboards and rules with Grafana's variables filled in.
import { type Gateway, startGateway } from '../../packages/gateway/src/index.js';

/** Names in `# TYPE` lines of a real gateway's /metrics, with which of them are histograms. */
export async function exportedMetrics(): Promise<{ names: Set<string>; histograms: Set<string> }> {
  // An unreachable Redis: the L2 gauges (breaker) exist only when L2 is configured.
  const gateway: Gateway = await startGateway({
    overrides: { host: '127.0.0.1', port: 0, log: { level: 'silent' }, redisUrl: 'redis://127.0.0.1:1' },
  });
  try {
    const text = await (await fetch(`${gateway.url}/metrics`)).text();
    const types = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)];
    return {
      names: new Set(types.map((m) => m[1]!)),
      histograms: new Set(types.filter((m) => m[2] === 'histogram').map((m) => m[1]!)),
    };
  } finally {
    await gateway.close();
  }
}

/** The ortline metric names an expression uses that the gateway does not export. */
export function unknownMetrics(expr: string, exported: { names: Set<string>; histograms: Set<string> }): string[] {
  return [...expr.matchAll(/\bortline_[a-z0-9_]+/g)]
    .map((m) => m[0])
    .filter((name) => {
      const base = name.replace(/_(bucket|count|sum)$/, '');
      return !(exported.names.has(name) || (base !== name && exported.histograms.has(base)));
    });
}

/** A dashboard query as Prometheus receives it: every variable "all", the rate interval one minute. */
export function fillVariables(expr: string): string {
  return expr.replace(/\$__rate_interval/g, '1m').replace(/\$(job|instance|model|version)\b/g, '.*');
}

/** The panels a person opens the dashboards for: each must exist and, with traffic, show data. */
export const MAIN_PANELS: Readonly<Record<string, readonly string[]>> = {
  'service-overview.json': [
    'Requests / s',
    'p99 latency',
    'Model versions ready',
    'Throughput by route',
    'Latency percentiles (scoring routes, 200)',
    'Predictions by route',
    'Rows per micro-batch',
    'Native run time p99',
    'Queue (rows waiting) against its limit',
    'Event loop delay',
    'Cache hit ratio',
  ],
  'model-health.json': [
    'Versions and their state',
    'Predictions by version and route',
    'Predictions by risk category',
    'Predicted probability distribution',
    'Feature drift now',
    'Feature drift over time',
    'Prediction drift',
    'Rows in the drift window',
  ],
};
