// The fast counter and histogram (fast-counter.ts, fast-histogram.ts) registered as prom-client
// metrics: they render themselves in the exposition format.
import type { Metric, Registry } from 'prom-client';
import { FastCounter } from './fast-counter.js';
import { FastHistogram } from './fast-histogram.js';

export function registerHistogram(
  registry: Registry,
  name: string,
  help: string,
  buckets: readonly number[],
): FastHistogram {
  const h = new FastHistogram(name, help, buckets);
  registry.registerMetric(h as unknown as Metric);
  return h;
}

export function registerCounter(registry: Registry, name: string, help: string): FastCounter {
  const c = new FastCounter(name, help);
  registry.registerMetric(c as unknown as Metric);
  return c;
}
