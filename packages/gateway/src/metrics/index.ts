// Prometheus metrics (prom-client), one module per domain: requests, model versions, drift and the
// traffic log, cache tiers, the process. With metrics disabled every handle is a no-op chosen at start-up.
import { collectDefaultMetrics, Registry } from 'prom-client';
import { cacheMetrics } from './cache.js';
import { lifecycleMetrics } from './lifecycle.js';
import { modelMetrics } from './models.js';
import { monitorMetrics } from './monitor.js';
import { requestMetrics } from './requests.js';
import { runtimeMetrics } from './runtime.js';
import type {
  BatchMetric,
  CacheGaugeSource,
  CacheMetric,
  DriftSource,
  DropMetric,
  L2Metric,
  LifecycleMetric,
  Metrics,
  ModelGaugeSource,
  OutcomeMetric,
  PredictionMetric,
  RouteMetric,
  ShadowMetric,
  TrafficLogMetric,
  VersionStateSource,
} from './types.js';

export * from './types.js';

const NOOP_ROUTE: RouteMetric = { observe() {} };
const NOOP_BATCH: BatchMetric = () => {};
const NOOP_DROP: DropMetric = () => {};
const NOOP_CACHE: CacheMetric = { l1() {}, l2() {}, l2Skipped() {}, bypass() {} };
const NOOP_L2: L2Metric = { lookup() {}, error() {}, breaker() {} };
const NOOP_COUNT = () => {};
const NOOP_PREDICTIONS: PredictionMetric = {
  active: NOOP_COUNT,
  canary: NOOP_COUNT,
  pinned: NOOP_COUNT,
  shadow: NOOP_COUNT,
};
const NOOP_OUTCOMES: OutcomeMetric = () => {};
const NOOP_TRAFFIC_LOG: TrafficLogMetric = { written() {}, dropped() {} };
const NOOP_SHADOW: ShadowMetric = { scored() {}, dropped() {} };
const NOOP_LIFECYCLE: LifecycleMetric = { loaded() {}, rejected() {}, routed() {} };

export function createMetrics(options: {
  enabled: boolean;
  defaultMetrics: boolean;
  models: () => Iterable<ModelGaugeSource>;
  /** Every known version's lifecycle state. */
  versionStates?: () => Iterable<VersionStateSource>;
  /** Every loaded version's drift window. */
  drift?: () => Iterable<DriftSource>;
  wsPending: () => number;
  cache?: () => CacheGaugeSource | undefined;
  /** batcher.maxQueueRows, exported for saturation alerts. */
  queueLimitRows?: number;
  /** Whether an L2 is configured: its gauges exist only then. */
  l2?: boolean;
}): Metrics {
  if (!options.enabled) {
    return {
      enabled: false,
      contentType: 'text/plain',
      route: () => NOOP_ROUTE,
      batch: () => NOOP_BATCH,
      dropped: () => NOOP_DROP,
      cache: () => NOOP_CACHE,
      predictions: () => NOOP_PREDICTIONS,
      shadow: () => NOOP_SHADOW,
      outcomes: () => NOOP_OUTCOMES,
      trafficLog: NOOP_TRAFFIC_LOG,
      lifecycle: NOOP_LIFECYCLE,
      l2: NOOP_L2,
      wsConnections() {},
      shed() {},
      live: undefined,
      render: () => Promise.resolve(''),
      close() {},
    };
  }

  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const requests = requestMetrics(registry);
  const models = modelMetrics(registry, options.models, options.queueLimitRows ?? 0);
  const lifecycle = lifecycleMetrics(registry, options.versionStates ?? (() => []));
  const monitor = monitorMetrics(registry, options.drift ?? (() => []));
  const runtime = runtimeMetrics(registry, options.wsPending);
  const cache = cacheMetrics(registry, options.cache ?? (() => undefined), options.l2 === true);
  return {
    enabled: true,
    contentType: registry.contentType,
    route: requests.route,
    batch: models.batch,
    dropped: models.dropped,
    cache: cache.cache,
    predictions: lifecycle.predictions,
    shadow: lifecycle.shadow,
    outcomes: monitor.outcomes,
    trafficLog: monitor.trafficLog,
    lifecycle: lifecycle.lifecycle,
    l2: cache.l2,
    wsConnections: runtime.wsConnections,
    shed: runtime.shed,
    live: { requests: requests.histogram, batchRows: models.batchRows, hits: cache.hits, misses: cache.misses },
    render: () => registry.metrics(),
    close() {
      runtime.close();
      registry.clear();
    },
  };
}
