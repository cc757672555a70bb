// The live statistics the console's Live page draws: once a second, the gateway reads its own
// metrics (the same in-process instruments /metrics renders, no HTTP) and keeps what changed in
// that second: prediction requests, their latency quantiles, errors, the cache hit ratio and the
// rows per native run. The last five minutes are kept.
import type { FastCounter } from './fast-counter.js';
import type { FastHistogram } from './fast-histogram.js';
import { SCORING_ROUTES } from './requests.js';

/** Metrics, console and docs requests are not the service's load. */
const SCORING: ReadonlySet<string> = new Set(SCORING_ROUTES);

/** Cumulative counts at one instant. */
export interface LiveTotals {
  readonly requests: number;
  readonly clientErrors: number;
  readonly serverErrors: number;
  /** Prediction answers per latency bucket (the request histogram's buckets, then +Inf). */
  readonly latency: Float64Array;
  readonly runs: number;
  readonly rows: number;
  readonly cacheHits: number;
  readonly cacheLookups: number;
}

/** One second of traffic. Null where nothing happened to measure. */
export interface LivePoint {
  /** End of the second, milliseconds since the epoch. */
  readonly t: number;
  readonly requests_per_second: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  readonly client_errors_per_second: number;
  readonly server_errors_per_second: number;
  readonly cache_hit_ratio: number | null;
  readonly batch_rows_mean: number | null;
}

export interface LiveInstruments {
  readonly requests: FastHistogram;
  readonly batchRows: FastHistogram;
  readonly hits: FastCounter;
  readonly misses: FastCounter;
}

export function readTotals(m: LiveInstruments): LiveTotals {
  const latency = new Float64Array(m.requests.upperBounds.length + 1);
  let requests = 0;
  let clientErrors = 0;
  let serverErrors = 0;
  for (const c of m.requests.all()) {
    if (!SCORING.has(c.labels.route ?? '')) continue;
    requests += c.count;
    const status = Number(c.labels.status);
    if (status >= 500) serverErrors += c.count;
    else if (status >= 400) clientErrors += c.count;
    for (let i = 0; i < latency.length; i++) latency[i]! += c.counts[i]!;
  }
  let runs = 0;
  let rows = 0;
  for (const c of m.batchRows.all()) {
    runs += c.count;
    rows += c.sum;
  }
  // A row looked up in L1 and missed goes on to L2: the rows looked up are L1's (or L2's alone,
  // with L1 off); the hits are either tier's.
  let l1 = 0;
  let l2 = 0;
  let hits = 0;
  for (const c of m.hits.all()) {
    hits += c.value;
    if (c.labels.tier === 'l1') l1 += c.value;
    else l2 += c.value;
  }
  for (const c of m.misses.all()) {
    if (c.labels.tier === 'l1') l1 += c.value;
    else l2 += c.value;
  }
  return {
    requests,
    clientErrors,
    serverErrors,
    latency,
    runs,
    rows,
    cacheHits: hits,
    cacheLookups: l1 > 0 ? l1 : l2,
  };
}

/**
 * The q-quantile of the observations counted in `counts` (per bucket, the last +Inf), linearly
 * interpolated inside its bucket as Prometheus's histogram_quantile does; a quantile in the +Inf
 * bucket is the last finite bound. Seconds in, null when there is nothing.
 */
export function bucketQuantile(q: number, bounds: Float64Array, counts: Float64Array): number | null {
  let total = 0;
  for (const c of counts) total += c;
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= bounds.length) return bounds[bounds.length - 1]!;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + (bounds[i]! - lower) * ((rank - seen) / c);
    }
    seen += c;
  }
  return bounds[bounds.length - 1]!;
}

export class LiveStats {
  private readonly read: () => LiveTotals;
  private readonly bounds: Float64Array;
  private readonly capacity: number;
  private readonly points: LivePoint[] = [];
  private last: { t: number; totals: LiveTotals } | undefined;

  constructor(read: () => LiveTotals, bounds: Float64Array, capacity = 300) {
    this.read = read;
    this.bounds = bounds;
    this.capacity = capacity;
  }

  /** Takes a sample now: the point for the time since the previous one (none on the first call). */
  sample(t = Date.now()): void {
    const totals = this.read();
    const prev = this.last;
    this.last = { t, totals };
    if (!prev || t <= prev.t) return;
    const seconds = (t - prev.t) / 1000;
    const latency = totals.latency.map((c, i) => c - prev.totals.latency[i]!);
    const runs = totals.runs - prev.totals.runs;
    const lookups = totals.cacheLookups - prev.totals.cacheLookups;
    const ms = (q: number) => {
      const s = bucketQuantile(q, this.bounds, latency);
      return s === null ? null : s * 1000;
    };
    this.points.push({
      t,
      requests_per_second: (totals.requests - prev.totals.requests) / seconds,
      p50_ms: ms(0.5),
      p99_ms: ms(0.99),
      client_errors_per_second: (totals.clientErrors - prev.totals.clientErrors) / seconds,
      server_errors_per_second: (totals.serverErrors - prev.totals.serverErrors) / seconds,
      cache_hit_ratio: lookups > 0 ? (totals.cacheHits - prev.totals.cacheHits) / lookups : null,
      batch_rows_mean: runs > 0 ? (totals.rows - prev.totals.rows) / runs : null,
    });
    if (this.points.length > this.capacity) this.points.shift();
  }

  /** The points after time `t` (all of them for 0), oldest first. */
  since(t: number): LivePoint[] {
    let i = this.points.length;
    while (i > 0 && this.points[i - 1]!.t > t) i--;
    return this.points.slice(i);
  }
}
