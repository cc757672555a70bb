// The cache stage of one model version: a Scorer in front of the scorer's Batcher.
//
//   request ─▶ validate + columnize (the model version's feature schema) ─▶ key per row
//           ─▶ L1 per row ── all hit ──▶ answer (never queues)
//           └─ misses ─▶ this tick's list ─(setImmediate)─▶ one MGET for every L1 miss of every
//              request of the tick (budget cache.l2.timeoutMs) ── hit ──▶ fill L1, answer
//              └─ still missing ─▶ Batcher.predict(only those rows) ─▶ answer, then fill L1 now
//                 and L2 in one pipeline per tick
//
// Why here and not inside the Batcher: the scorer knows nothing of caches (gateway -> scorer
// only), and the tick that gathers the L2 lookup is the same event-loop turn the Batcher gathers
// a micro-batch in (it dispatches on setImmediate too), so one MGET still answers for one
// micro-batch's worth of requests. Misses are validated a second time by the Batcher: the price
// of that separation, about 0.4 µs per missed row (bench/results/cache).
import type { Batcher, CallOptions, FeatureIssue, FeatureSchema, Feeds, Output, ScorerError } from '@ortline/scorer';
import { GatewayError } from '../errors.js';
import type { CacheMetric } from '../metrics/index.js';
import type { CacheDirective, CacheSource, Scored, Scorer } from '../predict/scorer.js';
import type { RowKeys } from './key.js';
import type { L1Cache } from './l1.js';
import type { L2Tier } from './l2.js';

type Columns = ReturnType<FeatureSchema['allocate']>;

interface Job {
  readonly records: readonly unknown[];
  readonly keys: readonly string[];
  readonly scores: Float64Array;
  /** Rows still without a score. */
  missing: number[];
  l1Hits: number;
  l2Hits: number;
  readonly bypass: boolean;
  /** The request's deadline and signal, for the rows that reach the Batcher. */
  readonly call: CallOptions | undefined;
  readonly resolve: (s: Scored) => void;
  readonly reject: (err: unknown) => void;
}

export interface CachedScorerInit {
  readonly batcher: Batcher;
  /** A FeatureSchema of its own (not the Batcher's): each keeps its writers compiled for its own columns. */
  readonly schema: FeatureSchema;
  readonly keys: RowKeys;
  readonly l1: L1Cache | undefined;
  readonly l2: L2Tier | undefined;
  readonly metric: CacheMetric;
}

export class CachedScorer implements Scorer {
  private readonly batcher: Batcher;
  private readonly schema: FeatureSchema;
  private readonly keys: RowKeys;
  private readonly l1: L1Cache | undefined;
  private readonly l2: L2Tier | undefined;
  private readonly metric: CacheMetric;
  private scratch: Columns;
  private capacity: number;

  /** Jobs whose L1 misses go to L2 in this tick's MGET. */
  private tick: Job[] = [];
  private tickRows = 0;
  private lookupRows = 0;
  private fillKeys: string[] = [];
  private fillValues: string[] = [];
  private closing = false;

  private readonly flushTick = () => this.lookupTick();
  private readonly flushFills = () => {
    const keys = this.fillKeys;
    const values = this.fillValues;
    this.fillKeys = [];
    this.fillValues = [];
    this.l2!.store(keys, values);
  };

  constructor(init: CachedScorerInit) {
    this.batcher = init.batcher;
    this.schema = init.schema;
    this.keys = init.keys;
    this.l1 = init.l1;
    this.l2 = init.l2;
    this.metric = init.metric;
    this.capacity = 16;
    this.scratch = init.schema.allocate(this.capacity);
  }

  score(records: readonly unknown[], directive: CacheDirective = 'default', call?: CallOptions): Promise<Scored> {
    if (this.closing)
      return Promise.reject(
        new GatewayError('BATCHER_CLOSED', 'the model version is shutting down and takes no more requests'),
      );
    const n = records.length;
    if (directive === 'no-store' || directive === 'internal') {
      if (directive === 'no-store') this.metric.bypass('no-store');
      return this.batcher.predict(records, call).then((scores) => ({ scores, source: 'bypass' }));
    }
    if (n === 0) return this.batcher.predict(records, call).then((scores) => ({ scores, source: 'miss' }));

    const started = performance.now();
    const cols = this.columns(n);
    const issues: FeatureIssue[] = [];
    this.schema.write(records, cols, 0, issues);
    // Invalid: the Batcher validates again and rejects with every issue, as it would uncached.
    if (issues.length > 0) return this.batcher.predict(records, call).then((scores) => ({ scores, source: 'miss' }));
    const keys = new Array<string>(n);
    for (let r = 0; r < n; r++) keys[r] = this.keys.key(cols, r);
    const scores = new Float64Array(n);
    const bypass = directive === 'no-cache';
    let missing: number[];
    let l1Hits = 0;
    const l1 = this.l1;
    if (bypass) {
      this.metric.bypass('no-cache');
      missing = allRows(n);
    } else if (l1 !== undefined) {
      missing = [];
      for (let r = 0; r < n; r++) {
        const v = l1.get(keys[r]!);
        if (v === undefined) missing.push(r);
        else scores[r] = v;
      }
      l1Hits = n - missing.length;
      this.metric.l1(l1Hits, missing.length, (performance.now() - started) / 1000);
      if (missing.length === 0) return Promise.resolve({ scores, source: 'l1' });
    } else {
      missing = allRows(n);
    }

    return new Promise<Scored>((resolve, reject) => {
      const job: Job = { records, keys, scores, missing, l1Hits, l2Hits: 0, bypass, call, resolve, reject };
      if (bypass || this.l2 === undefined) {
        this.compute(job);
        return;
      }
      if (this.tick.length === 0) setImmediate(this.flushTick);
      this.tick.push(job);
      this.tickRows += missing.length;
    });
  }

  infer(feeds: Feeds, rows: number, call?: CallOptions): Promise<Record<string, Output>> {
    return this.batcher.infer(feeds, rows, call);
  }

  queueRefusal(rows: number): ScorerError | undefined {
    return this.batcher.queueRefusal(rows, this.tickRows + this.lookupRows);
  }
  get queueRows(): number {
    return this.batcher.stats.queueRows + this.tickRows + this.lookupRows;
  }

  get inFlight(): number {
    return this.batcher.stats.inFlight;
  }

  async close(): Promise<void> {
    this.closing = true;
    // Lookups settle within the L2 budget; their misses then are in the Batcher's queue.
    while (this.tick.length > 0 || this.lookupRows > 0) await new Promise((r) => setTimeout(r, 1));
    await this.batcher.close();
  }

  /** One MGET for every L1 miss of this tick's requests. */
  private lookupTick(): void {
    const jobs = this.tick;
    const rows = this.tickRows;
    this.tick = [];
    this.tickRows = 0;
    const keys = new Array<string>(rows);
    let k = 0;
    for (const job of jobs) for (const i of job.missing) keys[k++] = job.keys[i]!;
    const answer = this.l2!.lookup(keys);
    if (typeof answer === 'string') {
      this.metric.l2Skipped(rows, answer);
      for (const job of jobs) this.compute(job);
      return;
    }
    this.lookupRows += rows;
    void answer.then((values) => {
      this.lookupRows -= rows;
      // Failed or out of budget (counted by the L2 tier): everything goes to inference.
      if (values === undefined) {
        for (const job of jobs) this.compute(job);
        return;
      }
      const l1 = this.l1;
      let j = 0;
      let hits = 0;
      for (const job of jobs) {
        const still: number[] = [];
        for (const i of job.missing) {
          const v = values[j++];
          const score = v === null || v === undefined ? undefined : parseScore(v);
          if (score === undefined) {
            still.push(i);
          } else {
            job.scores[i] = score;
            job.l2Hits++;
            l1?.set(job.keys[i]!, score);
          }
        }
        hits += job.missing.length - still.length;
        job.missing = still;
        if (still.length === 0) this.finish(job);
        else this.compute(job);
      }
      this.metric.l2(hits, rows - hits);
    });
  }

  /** Scores a job's missing rows (only those) through the Batcher, then fills the caches. */
  private compute(job: Job): void {
    const missing = job.missing;
    const records = missing.length === job.records.length ? job.records : missing.map((i) => job.records[i]);
    this.batcher.predict(records, job.call).then((computed) => {
      const l1 = this.l1;
      const fill = this.l2 !== undefined;
      if (fill && this.fillKeys.length === 0 && missing.length > 0) setImmediate(this.flushFills);
      for (let k = 0; k < missing.length; k++) {
        const i = missing[k]!;
        const score = computed[k]!;
        job.scores[i] = score;
        const key = job.keys[i]!;
        l1?.set(key, score);
        if (fill) {
          this.fillKeys.push(key);
          this.fillValues.push(String(score));
        }
      }
      this.finish(job);
    }, job.reject);
  }

  private finish(job: Job): void {
    const n = job.scores.length;
    let source: CacheSource;
    if (job.bypass) source = 'bypass';
    else if (job.l1Hits === n) source = 'l1';
    else if (job.l2Hits === n) source = 'l2';
    else if (job.l1Hits + job.l2Hits === 0) source = 'miss';
    else source = 'mixed';
    job.resolve({ scores: job.scores, source });
  }

  /** Scratch columns for validating and keying `n` rows (reused: keys are computed synchronously). */
  private columns(n: number): Columns {
    if (n > this.capacity) {
      this.capacity = Math.max(n, this.capacity * 2);
      this.scratch = this.schema.allocate(this.capacity);
    }
    return this.scratch;
  }
}

function allRows(n: number): number[] {
  const rows = new Array<number>(n);
  for (let i = 0; i < n; i++) rows[i] = i;
  return rows;
}

/** A stored score: the shortest decimal that round-trips the float64 (String(score)). */
function parseScore(v: string): number | undefined {
  const s = Number(v);
  if (v === '' || (Number.isNaN(s) && v !== 'NaN')) return undefined; // not ours: treat as a miss
  return s;
}
