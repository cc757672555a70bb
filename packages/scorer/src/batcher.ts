// Batcher: coalesces concurrent predict/infer calls into few native runs.
//
// Continuous batching: when the engine is idle, a call is dispatched at the end of the current
// event-loop turn (so calls that arrived in the same turn go together, and a lone call goes
// alone, at once). While `concurrency` runs are in flight, arrivals queue and the next run takes
// everything queued, up to `maxBatchRows`. `maxWaitMs` > 0 adds a fixed window as a fallback.
//
// Rows are written straight into the batch's column buffers (validated on the way), and those
// buffers are handed to the run as views: nothing copies them again before ONNX Runtime reads
// them, and a batch's buffers are never written while its run is in flight (each batch owns its
// buffers; they return to a pool only after the run settles).
import { ScorerError } from './errors.js';
import type { Model } from './model.js';
import { allocateColumns, type Columns, type FeatureIssue, type FeatureSchema, invalidFeatures } from './schema.js';
import type { Feed, Feeds, InputPlan, Output, TensorInfo } from './types.js';

export interface BatcherOptions {
  /** Most rows in one native run. A single call with more rows runs alone. Default 1024. */
  readonly maxBatchRows?: number;
  /** Most rows waiting (not yet running); past it calls fail with QUEUE_FULL. Default 65536. */
  readonly maxQueueRows?: number;
  /**
   * Most time a call may be expected to wait before its run starts, estimated from the runs so
   * far (a run costs about a fixed part plus a part per row, fitted as runs complete); past it,
   * calls fail with QUEUE_FULL at once instead of queueing into a timeout (and past a call's own
   * deadline, with DEADLINE_EXCEEDED). 0: no limit by time. Default 0.
   */
  readonly maxQueueMs?: number;
  /** 0 (default): continuous batching. > 0: an idle engine waits up to this long to fill a batch. */
  readonly maxWaitMs?: number;
  /** Native runs in flight at once. Match the model's `sessions`. Default 1. */
  readonly concurrency?: number;
  /** The output `predict` reads its score from, and which column of it. Default: first output, column 0 (or 1 when it has two columns: the positive class). */
  readonly output?: { readonly name: string; readonly index: number };
  /** Called after each run with its row count and duration; for metrics. */
  readonly onBatch?: (rows: number, durationMs: number) => void;
  /** Called for each call whose rows were dropped before their run (see CallOptions); for metrics. */
  readonly onDrop?: (reason: DropReason, rows: number) => void;
}

/** Why a call's rows were not run: its deadline passed, or its caller gave up. */
export type DropReason = 'deadline' | 'cancelled';

/** Per call: when its rows stop being worth running. Both are checked when its batch is dispatched. */
export interface CallOptions {
  /**
   * A `performance.now()` time. Rows still queued after it are never run: the call rejects with
   * DEADLINE_EXCEEDED. Already past at the call: rejected at once, nothing queued.
   */
  readonly deadline?: number;
  /** When `aborted` (an AbortSignal fits), the rows are never run: the call rejects with CANCELLED. */
  readonly signal?: { readonly aborted: boolean };
}

export interface BatcherStats {
  /** Rows queued and not yet dispatched. */
  readonly queueRows: number;
  /** Native runs in flight. */
  readonly inFlight: number;
  /** Runs completed or failed so far. */
  readonly runs: number;
  /** Rows dispatched so far. */
  readonly rowsRun: number;
  /** Rows dropped so far because their deadline passed before their run. */
  readonly rowsExpired: number;
  /** Rows dropped so far because their call was cancelled before their run. */
  readonly rowsCancelled: number;
}

interface Job {
  readonly rows: number;
  offset: number;
  /** `performance.now()` time; Infinity without one. */
  readonly deadline: number;
  readonly signal: { readonly aborted: boolean } | undefined;
  readonly queuedAt: number;
  readonly resolve: (outputs: Record<string, Output>, offset: number, rows: number) => void;
  readonly reject: (err: unknown) => void;
}

interface Batch {
  cols: Columns;
  readonly capacity: number;
  rows: number;
  jobs: Job[];
  readonly createdAt: number;
  /** Some job has a deadline or a signal: look at each before the run. */
  mortal: boolean;
}

const NO_OPTIONS: CallOptions = {};

const DEFAULTS = { maxBatchRows: 1024, maxQueueRows: 65536, maxQueueMs: 0, maxWaitMs: 0, concurrency: 1 };
// How much each new run weighs in the run-cost fit against the ones before it.
const COST_DECAY = 0.95;

export class Batcher {
  private readonly model: Model;
  private readonly schema: FeatureSchema | undefined;
  /** The model's input plans: element type, JS class and values per row of each input. */
  private readonly inputs: readonly InputPlan[];
  private readonly inputNames: ReadonlySet<string>;
  private readonly maxBatchRows: number;
  private readonly maxQueueRows: number;
  private readonly maxQueueMs: number;
  private readonly cost = new RunCost();
  /** Rows in the runs in flight. */
  private runningRows = 0;
  private readonly maxWaitMs: number;
  private readonly concurrency: number;
  private readonly scoreOutput: string;
  private readonly scoreIndex: number;
  private readonly scoreWidth: number;
  private readonly onBatch: BatcherOptions['onBatch'];
  private readonly onDrop: BatcherOptions['onDrop'];

  private readonly queue: Batch[] = [];
  private readonly pool: Columns[] = [];
  private queued = 0;
  private running = 0;
  private runCount = 0;
  private rowCount = 0;
  private expiredRows = 0;
  private cancelledRows = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private closing = false;
  private drained: (() => void) | undefined;

  constructor(model: Model, schema?: FeatureSchema, options: BatcherOptions = {}) {
    checkOptions(options);
    this.model = model;
    this.schema = schema;
    this.inputs = model.inputPlans;
    // Fail at construction, not on the first call, when an input cannot be batched.
    for (const p of this.inputs) {
      if (p.unsupported !== null || p.batch !== 'rows') {
        throw new ScorerError(
          'UNSUPPORTED_INPUT',
          p.unsupported ?? `input "${p.name}" has no row dimension to batch on (${p.batch})`,
          { input: p.name },
        );
      }
    }
    this.inputNames = new Set(this.inputs.map((p) => p.name));
    allocateColumns(this.inputs, 0);
    this.maxBatchRows = options.maxBatchRows ?? DEFAULTS.maxBatchRows;
    this.maxQueueRows = options.maxQueueRows ?? DEFAULTS.maxQueueRows;
    this.maxQueueMs = options.maxQueueMs ?? DEFAULTS.maxQueueMs;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULTS.maxWaitMs;
    this.concurrency = options.concurrency ?? DEFAULTS.concurrency;
    this.onBatch = options.onBatch;
    this.onDrop = options.onDrop;

    const out = options.output ?? defaultScoreOutput(model.outputs);
    const info = model.outputs.find((o) => o.name === out.name);
    if (!info) {
      throw new ScorerError(
        'INVALID_OPTION',
        `output "${out.name}" is not an output of the model (outputs: ${model.outputs.map((o) => o.name).join(', ')})`,
        { option: 'output' },
      );
    }
    const width = info.shape.slice(1).reduce<number>((a, d) => a * (d ?? -1), 1);
    if (!(width >= 1) || out.index < 0 || out.index >= width) {
      throw new ScorerError(
        'INVALID_OPTION',
        `output "${out.name}" with shape [${info.shape.join(', ')}] has no column ${out.index}`,
        { option: 'output' },
      );
    }
    this.scoreOutput = out.name;
    this.scoreIndex = out.index;
    this.scoreWidth = width;
  }

  /**
   * How long a call arriving now would wait before its run starts: the runs in flight and every
   * row queued ahead of it, run by run, over the run slots. 0 before the first run is measured.
   */
  estimatedWaitMs(): number {
    const ahead = this.queued + this.runningRows;
    if (ahead === 0) return 0;
    const runs = Math.ceil(this.queued / this.maxBatchRows) + this.running;
    return this.cost.ms(runs, ahead) / this.concurrency;
  }

  get stats(): BatcherStats {
    return {
      queueRows: this.queued,
      inFlight: this.running,
      runs: this.runCount,
      rowsRun: this.rowCount,
      rowsExpired: this.expiredRows,
      rowsCancelled: this.cancelledRows,
    };
  }

  /**
   * Scores records: one probability (or score) per record, in order. Validation failures reject
   * at once with INVALID_FEATURES, listing every bad field of every row; nothing is queued.
   */
  predict(records: readonly unknown[], options: CallOptions = NO_OPTIONS): Promise<Float64Array> {
    const schema = this.schema;
    if (!schema)
      return Promise.reject(
        new ScorerError(
          'INVALID_OPTION',
          'predict needs a FeatureSchema; construct the Batcher with one, or use infer()',
          { option: 'schema' },
        ),
      );
    const n = records.length;
    const admitted = this.admit(n, options);
    if (admitted) return Promise.reject(admitted);
    if (n === 0) return Promise.resolve(new Float64Array(0));

    const batch = this.batchFor(n);
    const issues: FeatureIssue[] = [];
    schema.write(records, batch.cols, batch.rows, issues);
    if (issues.length > 0) {
      this.abandon(batch);
      return Promise.reject(invalidFeatures(issues));
    }
    return new Promise<Float64Array>((resolve, reject) => {
      this.enqueue(batch, n, options, (outputs, offset, rows) => resolve(this.scoresAt(outputs, offset, rows)), reject);
    });
  }

  /**
   * Scores column feeds already written (by one of `FeatureSchema`'s writers), as `predict`
   * scores records: the same checks and queue as `infer`, the score per row read straight from
   * the run's output. The feeds are copied before this returns, so the caller may write its next
   * rows into them at once.
   */
  scoreColumns(feeds: Feeds, rows: number, options: CallOptions = NO_OPTIONS): Promise<Float64Array> {
    const staged = this.stage(feeds, rows, options);
    if (staged instanceof ScorerError) return Promise.reject(staged);
    if (staged === null) return Promise.resolve(new Float64Array(0));
    return new Promise<Float64Array>((resolve, reject) => {
      this.enqueue(staged, rows, options, (outputs, offset, n) => resolve(this.scoresAt(outputs, offset, n)), reject);
    });
  }

  /** The score of each of `rows` rows from `offset`: the configured output's column. */
  private scoresAt(outputs: Record<string, Output>, offset: number, rows: number): Float64Array {
    const { scoreIndex, scoreWidth } = this;
    const data = outputs[this.scoreOutput]!.data as ArrayLike<number>;
    const scores = new Float64Array(rows);
    for (let i = 0, j = offset * scoreWidth + scoreIndex; i < rows; i++, j += scoreWidth) scores[i] = data[j]!;
    return scores;
  }

  /**
   * Runs raw column feeds (one block per input, `rows` x width values each), coalesced with
   * every other call. Resolves with every output, cut to this call's rows.
   */
  infer(feeds: Feeds, rows: number, options: CallOptions = NO_OPTIONS): Promise<Record<string, Output>> {
    const staged = this.stage(feeds, rows, options);
    if (staged instanceof ScorerError) return Promise.reject(staged);
    if (staged === null) return this.model.run(feeds, 0);
    return new Promise((resolve, reject) => {
      this.enqueue(staged, rows, options, (outputs, offset, n) => resolve(sliceOutputs(outputs, offset, n)), reject);
    });
  }

  /**
   * Checks raw feeds and admits them, then copies them into the batch they will run in (which
   * the caller must enqueue at once); null for zero rows, which need no batch.
   */
  private stage(feeds: Feeds, rows: number, options: CallOptions): Batch | ScorerError | null {
    if (!Number.isSafeInteger(rows) || rows < 0)
      return new ScorerError('INVALID_ROWS', `rows must be a non-negative integer, got ${String(rows)}`);
    const invalid = this.checkFeeds(feeds, rows);
    if (invalid) return invalid;
    const admitted = this.admit(rows, options);
    if (admitted) return admitted;
    if (rows === 0) return null;
    const batch = this.batchFor(rows);
    for (const input of this.inputs) {
      const w = input.width;
      const src = feeds[input.name]!;
      const dst = batch.cols[input.name]!;
      const at = batch.rows * w;
      if (Array.isArray(dst)) {
        const s = src as string[];
        for (let i = 0; i < s.length; i++) dst[at + i] = s[i]!;
      } else {
        (dst as Float32Array).set(src as Float32Array, at);
      }
    }
    return batch;
  }

  /** Stops taking calls, then resolves once everything queued and in flight has settled. */
  close(): Promise<void> {
    this.closing = true;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.pump(true);
    if (this.queue.length === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  private admit(rows: number, options: CallOptions): ScorerError | undefined {
    if (this.closing) return new ScorerError('BATCHER_CLOSED', 'the batcher is closed and takes no more calls');
    if (options.deadline !== undefined && !(options.deadline > performance.now())) {
      this.expiredRows += rows;
      this.onDrop?.('deadline', rows);
      return new ScorerError('DEADLINE_EXCEEDED', 'the deadline passed before the call was queued', { queuedMs: 0 });
    }
    // By time: a call that would only wait into its deadline is refused now rather than
    // answered late.
    if (options.deadline !== undefined) {
      const wait = this.estimatedWaitMs();
      if (performance.now() + wait > options.deadline) {
        this.expiredRows += rows;
        this.onDrop?.('deadline', rows);
        return new ScorerError(
          'DEADLINE_EXCEEDED',
          `the deadline would pass before the call's run: a run would start in about ${Math.round(wait)} ms`,
          { queuedMs: 0, estimatedWaitMs: Math.round(wait) },
        );
      }
    }
    return this.queueRefusal(rows);
  }

  /**
   * The QUEUE_FULL a call of `rows` rows arriving now would get, or undefined: its run would
   * start past `maxQueueMs` (`details.reason` "queue_time"), or its rows would take the queue
   * past `maxQueueRows` ("queue_rows"). `heldRows`: rows the caller holds bound for this batcher
   * but not queued yet (awaiting a cache lookup, say), counted as queued. No side effects: a
   * server asks it before reading a request's body, so an overloaded one refuses without parsing.
   */
  queueRefusal(rows: number, heldRows = 0): ScorerError | undefined {
    if (this.maxQueueMs > 0) {
      const wait = this.estimatedWaitMs();
      if (wait > this.maxQueueMs) {
        return new ScorerError(
          'QUEUE_FULL',
          `queue full: a run would start in about ${Math.round(wait)} ms, past maxQueueMs (${this.maxQueueMs} ms)`,
          { reason: 'queue_time', estimatedWaitMs: Math.round(wait), maxQueueMs: this.maxQueueMs },
        );
      }
    }
    const queued = this.queued + heldRows;
    if (queued + rows > this.maxQueueRows) {
      return new ScorerError(
        'QUEUE_FULL',
        `queue full: ${queued} rows waiting, ${rows} more would pass the limit of ${this.maxQueueRows}`,
        { reason: 'queue_rows', queueRows: queued, maxQueueRows: this.maxQueueRows },
      );
    }
    return undefined;
  }

  private checkFeeds(feeds: Feeds, rows: number): ScorerError | undefined {
    if (feeds === null || typeof feeds !== 'object')
      return new ScorerError('INVALID_FEEDS', 'feeds must be an object of input name -> column block');
    for (const name of Object.keys(feeds)) {
      if (!this.inputNames.has(name)) {
        return new ScorerError(
          'UNKNOWN_INPUT',
          `"${name}" is not an input of the model (inputs: ${this.inputs.map((i) => i.name).join(', ')})`,
          { input: name },
        );
      }
    }
    for (const input of this.inputs) {
      const feed: Feed | undefined = feeds[input.name];
      if (feed === undefined)
        return new ScorerError('MISSING_INPUT', `input "${input.name}" is missing`, { input: input.name });
      const got = feedClass(feed);
      if (got !== input.jsType) {
        return new ScorerError(
          'INPUT_TYPE_MISMATCH',
          `input "${input.name}" expects ${input.type} (${input.jsType === 'string' ? 'string[]' : input.jsType}), got ${got}`,
          { input: input.name, expected: input.type, got },
        );
      }
      if (got === 'string' && (feed as unknown[]).some((s) => typeof s !== 'string')) {
        return new ScorerError(
          'INPUT_TYPE_MISMATCH',
          `input "${input.name}" expects strings, got a non-string element`,
          { input: input.name, expected: 'string', got: 'mixed' },
        );
      }
      const want = rows * input.width;
      if (feed.length !== want) {
        return new ScorerError(
          'INPUT_SHAPE_MISMATCH',
          `input "${input.name}" needs ${want} values (${rows} rows x ${input.width}), got ${feed.length}`,
          {
            input: input.name,
            expected: want,
            got: feed.length,
          },
        );
      }
    }
    return undefined;
  }

  /** The batch a call of `rows` rows is written into: the open tail batch if it has room. */
  private batchFor(rows: number): Batch {
    const tail = this.queue[this.queue.length - 1];
    if (tail && tail.rows + rows <= tail.capacity) return tail;
    const capacity = Math.max(rows, this.maxBatchRows);
    const cols =
      capacity === this.maxBatchRows && this.pool.length > 0
        ? this.pool.pop()!
        : allocateColumns(this.inputs, capacity);
    const batch: Batch = { cols, capacity, rows: 0, jobs: [], createdAt: performance.now(), mortal: false };
    this.queue.push(batch);
    return batch;
  }

  /** Undoes batchFor for a call that failed validation: an empty new batch goes back. */
  private abandon(batch: Batch): void {
    if (batch.rows === 0 && this.queue[this.queue.length - 1] === batch) {
      this.queue.pop();
      this.recycle(batch);
    }
  }

  private enqueue(
    batch: Batch,
    rows: number,
    options: CallOptions,
    resolve: Job['resolve'],
    reject: Job['reject'],
  ): void {
    const deadline = options.deadline ?? Infinity;
    const signal = options.signal;
    if (deadline !== Infinity || signal !== undefined) batch.mortal = true;
    batch.jobs.push({ rows, offset: batch.rows, deadline, signal, queuedAt: performance.now(), resolve, reject });
    batch.rows += rows;
    this.queued += rows;
    this.schedule();
  }

  private schedule(): void {
    if (this.running >= this.concurrency) return; // the settling run pumps
    if (this.maxWaitMs > 0) {
      const head = this.queue[0];
      if (head && head.rows >= head.capacity) this.pump(false);
      else if (!this.timer)
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump(true);
        }, this.maxWaitMs);
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.pump(true);
      });
    }
  }

  /** Dispatches queued batches while run slots are free. */
  private pump(force: boolean): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const head = this.queue[0]!;
      if (
        !force &&
        this.maxWaitMs > 0 &&
        head.rows < head.capacity &&
        performance.now() - head.createdAt < this.maxWaitMs
      ) {
        if (!this.timer) {
          const wait = Math.max(0, this.maxWaitMs - (performance.now() - head.createdAt));
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump(true);
          }, wait);
        }
        return;
      }
      this.queue.shift();
      this.dispatch(head);
    }
    if (this.running === 0 && this.queue.length === 0) this.drained?.();
  }

  private dispatch(batch: Batch): void {
    this.queued -= batch.rows;
    if (batch.mortal && !this.cull(batch)) {
      this.recycle(batch);
      return;
    }
    const rows = batch.rows;
    this.running++;
    this.runningRows += rows;
    this.rowCount += rows;
    const feeds: Feeds = {};
    for (const input of this.inputs) {
      const col = batch.cols[input.name]!;
      const n = rows * input.width;
      // Views, not copies: the batch owns these buffers until the run settles.
      feeds[input.name] = Array.isArray(col)
        ? col.length === n
          ? col
          : col.slice(0, n)
        : (col.subarray(0, n) as Feed);
    }
    const started = performance.now();
    this.model.run(feeds, rows).then(
      (outputs) => {
        this.settle(batch, started);
        for (const job of batch.jobs) {
          try {
            job.resolve(outputs, job.offset, job.rows);
          } catch (err) {
            job.reject(err);
          }
        }
      },
      (err: unknown) => {
        this.settle(batch, started);
        for (const job of batch.jobs) job.reject(err);
      },
    );
  }

  /**
   * Drops the jobs whose deadline passed or whose caller gave up, rejecting each, and moves the
   * rows of the others down over the gaps. False when no row is left to run.
   */
  private cull(batch: Batch): boolean {
    const now = performance.now();
    const live: Job[] = [];
    let write = 0;
    for (const job of batch.jobs) {
      const reason: DropReason | undefined = job.signal?.aborted
        ? 'cancelled'
        : now > job.deadline
          ? 'deadline'
          : undefined;
      if (reason !== undefined) {
        if (reason === 'deadline') this.expiredRows += job.rows;
        else this.cancelledRows += job.rows;
        this.onDrop?.(reason, job.rows);
        job.reject(
          reason === 'deadline'
            ? new ScorerError(
                'DEADLINE_EXCEEDED',
                'the deadline passed while the call was queued; its rows were not run',
                {
                  queuedMs: Math.round(now - job.queuedAt),
                },
              )
            : new ScorerError('CANCELLED', 'the call was cancelled while queued; its rows were not run'),
        );
        continue;
      }
      if (job.offset !== write) this.moveRows(batch.cols, job.offset, write, job.rows);
      job.offset = write;
      write += job.rows;
      live.push(job);
    }
    batch.jobs = live;
    batch.rows = write;
    return write > 0;
  }

  /** Moves `rows` rows of every column from row `from` down to row `to` (to < from). */
  private moveRows(cols: Columns, from: number, to: number, rows: number): void {
    for (const input of this.inputs) {
      const w = input.width;
      const col = cols[input.name]!;
      if (Array.isArray(col)) {
        for (let i = 0, n = rows * w; i < n; i++) col[to * w + i] = col[from * w + i]!;
      } else {
        col.copyWithin(to * w, from * w, (from + rows) * w);
      }
    }
  }

  private settle(batch: Batch, started: number): void {
    const ms = performance.now() - started;
    this.running--;
    this.runningRows -= batch.rows;
    this.runCount++;
    this.cost.add(batch.rows, ms);
    this.onBatch?.(batch.rows, ms);
    this.recycle(batch);
    // Everything that queued during the run goes now, in as few runs as the limits allow.
    this.pump(this.closing || this.maxWaitMs === 0);
    if (this.maxWaitMs > 0 && this.queue.length > 0) this.schedule();
  }

  private recycle(batch: Batch): void {
    if (batch.capacity === this.maxBatchRows && this.pool.length < this.concurrency + 2) this.pool.push(batch.cols);
  }
}

/**
 * The cost of a run as `fixed + perRow * rows`, fitted by least squares over the runs so far,
 * the older ones weighing less (COST_DECAY per run). While every run had the same size the two
 * parts cannot be told apart: the cost is then all per row.
 */
class RunCost {
  private w = 0;
  private x = 0;
  private y = 0;
  private xx = 0;
  private xy = 0;

  add(rows: number, ms: number): void {
    this.w = this.w * COST_DECAY + 1;
    this.x = this.x * COST_DECAY + rows;
    this.y = this.y * COST_DECAY + ms;
    this.xx = this.xx * COST_DECAY + rows * rows;
    this.xy = this.xy * COST_DECAY + rows * ms;
  }

  /** Milliseconds for `runs` runs holding `rows` rows in all. */
  ms(runs: number, rows: number): number {
    if (this.w === 0 || this.x === 0) return 0;
    const det = this.w * this.xx - this.x * this.x;
    let perRow = this.y / this.x;
    let fixed = 0;
    if (det > 1e-9 * this.w * this.xx) {
      const slope = (this.w * this.xy - this.x * this.y) / det;
      const intercept = (this.y - slope * this.x) / this.w;
      if (slope >= 0 && intercept >= 0) {
        perRow = slope;
        fixed = intercept;
      }
    }
    return runs * fixed + rows * perRow;
  }
}

/** What a feed is, in the plans' terms: 'string' for an array, else its class name. */
function feedClass(feed: Feed): string {
  if (Array.isArray(feed)) return 'string';
  return Object.prototype.toString.call(feed).slice(8, -1);
}

function defaultScoreOutput(outputs: readonly TensorInfo[]): { name: string; index: number } {
  const first = outputs.find((o) => o.type === 'float32' || o.type === 'float64') ?? outputs[0];
  if (!first) throw new ScorerError('INVALID_OPTION', 'the model has no outputs', { option: 'output' });
  const width = first.shape.slice(1).reduce<number>((a, d) => a * (d ?? 1), 1);
  return { name: first.name, index: width === 2 ? 1 : 0 };
}

function sliceOutputs(outputs: Record<string, Output>, offset: number, rows: number): Record<string, Output> {
  const out: Record<string, Output> = {};
  for (const [name, o] of Object.entries(outputs)) {
    const total = o.shape[0] ?? 0;
    const width = total > 0 ? o.data.length / total : 0;
    const data = Array.isArray(o.data)
      ? o.data.slice(offset * width, (offset + rows) * width)
      : (o.data as Float32Array).slice(offset * width, (offset + rows) * width);
    out[name] = { ...o, shape: [rows, ...o.shape.slice(1)], data } as Output;
  }
  return out;
}

function checkOptions(options: BatcherOptions): void {
  const known = new Set([
    'maxBatchRows',
    'maxQueueRows',
    'maxQueueMs',
    'maxWaitMs',
    'concurrency',
    'output',
    'onBatch',
    'onDrop',
  ]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ScorerError('INVALID_OPTION', `unknown Batcher option "${key}"`, { option: key });
  }
  const int = (key: 'maxBatchRows' | 'maxQueueRows' | 'concurrency', min: number) => {
    const v = options[key];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < min)) {
      throw new ScorerError('INVALID_OPTION', `${key} must be an integer >= ${min}, got ${String(v)}`, { option: key });
    }
  };
  int('maxBatchRows', 1);
  int('maxQueueRows', 1);
  int('concurrency', 1);
  for (const key of ['maxWaitMs', 'maxQueueMs'] as const) {
    const w = options[key];
    if (w !== undefined && (typeof w !== 'number' || !Number.isFinite(w) || w < 0)) {
      throw new ScorerError('INVALID_OPTION', `${key} must be a number >= 0, got ${String(w)}`, { option: key });
    }
  }
  const o = options.output;
  if (
    o !== undefined &&
    (typeof o !== 'object' || o === null || typeof o.name !== 'string' || !Number.isSafeInteger(o.index))
  ) {
    throw new ScorerError('INVALID_OPTION', 'output must be { name: string, index: integer }', { option: 'output' });
  }
  if (options.onBatch !== undefined && typeof options.onBatch !== 'function') {
    throw new ScorerError('INVALID_OPTION', 'onBatch must be a function', { option: 'onBatch' });
  }
}
