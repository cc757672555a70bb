// Model: a loaded ONNX model over the native addon. Validates options once at load; on every run
// it maps the feeds object onto the model's input order and packs the string inputs (the only
// checks JavaScript must make: names, and that strings are strings). Element types and lengths
// are checked once, by the core against its input plans, and come back as structured errors.
import { resolve } from 'node:path';
import { fromNative, ScorerError } from './errors.js';
import { loadBinding, type NativeModel, type NativeOptions, ortLibraryCandidates, type RunHandle } from './native.js';
import type {
  ElementType,
  Feeds,
  GraphOptimizationLevel,
  InputPlan,
  ModelMetadata,
  ModelOptions,
  Output,
  OutputData,
  RunOptions,
  TensorInfo,
} from './types.js';

/** Every option's default. */
export const MODEL_DEFAULTS = Object.freeze({
  intraOpThreads: 1,
  interOpThreads: 1,
  graphOptimizationLevel: 'all' as GraphOptimizationLevel,
  executionProviders: Object.freeze(['cpu']) as readonly string[],
  sessions: 1,
  categoricalCodes: true,
  inlineBudgetMicros: 30,
});

/** The options a model was loaded with, defaults filled in. */
export type ResolvedModelOptions = Readonly<{
  intraOpThreads: number;
  interOpThreads: number;
  graphOptimizationLevel: GraphOptimizationLevel;
  executionProviders: readonly string[];
  sessions: number;
  categoricalCodes: boolean;
  inlineBudgetMicros: number;
  ortLibraryPath?: string;
}>;

const OPTION_KEYS = new Set([
  'intraOpThreads',
  'interOpThreads',
  'graphOptimizationLevel',
  'executionProviders',
  'sessions',
  'categoricalCodes',
  'inlineBudgetMicros',
  'ortLibraryPath',
]);
const LEVELS = new Set(['disable', 'basic', 'extended', 'all']);
const RUN_OPTION_KEYS = new Set(['signal', 'outputs']);
const MAX_SESSIONS = 64;
const MAX_THREADS = 1024;
/** An inline run blocks the event loop: never for more than a millisecond by this option. */
const MAX_INLINE_BUDGET = 1000;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function option(key: string, message: string): ScorerError {
  return new ScorerError('INVALID_OPTION', `${key} ${message}`, { option: key });
}

function integerOption(
  options: ModelOptions,
  key: 'intraOpThreads' | 'interOpThreads' | 'sessions' | 'inlineBudgetMicros',
  min: number,
  max: number,
): number {
  const v = options[key];
  if (v === undefined) return MODEL_DEFAULTS[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw option(key, `must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

/** Strict: unknown keys, wrong types and out-of-range values are INVALID_OPTION naming the option. */
export function resolveModelOptions(options: ModelOptions | undefined): ResolvedModelOptions {
  if (options === undefined) return Object.freeze({ ...MODEL_DEFAULTS });
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ScorerError('INVALID_OPTION', `options must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.has(key))
      throw option(key, `is not an option of Model.load (options: ${[...OPTION_KEYS].join(', ')})`);
  }
  const level = options.graphOptimizationLevel ?? MODEL_DEFAULTS.graphOptimizationLevel;
  if (!LEVELS.has(level))
    throw option('graphOptimizationLevel', `must be one of ${[...LEVELS].join(', ')}, got ${JSON.stringify(level)}`);
  const eps = options.executionProviders ?? MODEL_DEFAULTS.executionProviders;
  if (!Array.isArray(eps) || eps.length === 0 || eps.some((e) => typeof e !== 'string' || e === '')) {
    throw option(
      'executionProviders',
      `must be a non-empty array of provider names (e.g. ["cpu"]), got ${JSON.stringify(eps)}`,
    );
  }
  const codes = options.categoricalCodes ?? MODEL_DEFAULTS.categoricalCodes;
  if (typeof codes !== 'boolean') throw option('categoricalCodes', `must be true or false, got ${describe(codes)}`);
  const lib = options.ortLibraryPath;
  if (lib !== undefined && (typeof lib !== 'string' || lib === ''))
    throw option('ortLibraryPath', `must be a non-empty string, got ${describe(lib)}`);
  return Object.freeze({
    intraOpThreads: integerOption(options, 'intraOpThreads', 0, MAX_THREADS),
    interOpThreads: integerOption(options, 'interOpThreads', 0, MAX_THREADS),
    graphOptimizationLevel: level,
    executionProviders: Object.freeze([...eps]),
    sessions: integerOption(options, 'sessions', 1, MAX_SESSIONS),
    categoricalCodes: codes,
    inlineBudgetMicros: integerOption(options, 'inlineBudgetMicros', 0, MAX_INLINE_BUDGET),
    ...(lib === undefined ? {} : { ortLibraryPath: resolve(lib) }),
  });
}

function nativeOptions(o: ResolvedModelOptions): NativeOptions {
  return {
    intraOpThreads: o.intraOpThreads,
    interOpThreads: o.interOpThreads,
    graphOptimizationLevel: o.graphOptimizationLevel,
    executionProviders: [...o.executionProviders],
    sessions: o.sessions,
    categoricalCodes: o.categoricalCodes,
  };
}

function checkSource(source: unknown): string | Uint8Array {
  if (typeof source === 'string' && source !== '') return resolve(source);
  if (source instanceof Uint8Array) return source;
  throw new ScorerError('MODEL_INVALID', `a model is a file path or its bytes (a Uint8Array), got ${describe(source)}`);
}

function closedError(): ScorerError {
  return new ScorerError('MODEL_CLOSED', 'the model is closed');
}

function abortedError(signal: AbortSignal): ScorerError {
  return new ScorerError('RUN_ABORTED', 'the run was aborted', { cause: signal.reason });
}

/**
 * What the addon takes: one entry per input, in input order (a string input's entry is the count
 * of its values), every string input's values joined by NUL into one string (one crossing for
 * all strings instead of one per value) and every coded input's codes in one buffer.
 */
type NativeFeeds = Parameters<NativeModel['runSync']>[0];
interface Prepared {
  readonly feeds: NativeFeeds;
  readonly strings: string | undefined;
  /** Every coded input's codes, in input order, back to back (each input's entry is its count). */
  readonly codes: BigInt64Array | undefined;
}
type NativeOutputs = ReturnType<NativeModel['runSync']>;

function nulError(input: string, index: number, cause?: ScorerError): ScorerError {
  return new ScorerError(
    'INPUT_TYPE_MISMATCH',
    `input "${input}": the value at index ${index} holds a NUL character ("\\0"), which ONNX Runtime strings cannot hold`,
    { input, index, ...(cause ? { cause } : {}) },
  );
}

/**
 * Writes a string column as the codes its input takes, from int64 `at` of `halves`' buffer: a
 * string that is no category gets -1, which no category has, so the graph treats it as it treated
 * an unknown string. The same strings are refused as without codes (a non-string, a NUL), so the
 * option never changes what is accepted. Codes are small: each int64 is written as its two 32-bit
 * halves (little-endian, as on every target the addon is built for), far cheaper than a BigInt.
 */
function encodeInto(
  input: string,
  feed: readonly unknown[],
  codes: ReadonlyMap<string, number>,
  halves: Int32Array,
  at: number,
): void {
  for (let j = 0; j < feed.length; j++) {
    const v = feed[j];
    const code = codes.get(v as string);
    const h = 2 * (at + j);
    if (code !== undefined) {
      halves[h] = code;
      continue;
    }
    if (typeof v !== 'string') {
      throw new ScorerError(
        'INPUT_TYPE_MISMATCH',
        `input "${input}" expects strings, got ${describe(v)} at index ${j}`,
        {
          input,
          expected: 'string',
          got: describe(v),
          index: j,
        },
      );
    }
    if (v.includes('\0')) throw nulError(input, j);
    halves[h] = -1;
    halves[h + 1] = -1;
  }
}

export class Model {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  readonly metadata: ModelMetadata;
  /** The options it was loaded with, defaults filled in. */
  readonly options: ResolvedModelOptions;
  /** How each input is fed, in input order: the core's plans. */
  readonly inputPlans: readonly InputPlan[];
  readonly #native: NativeModel;
  readonly #maxRows: number;
  readonly #planByName: ReadonlyMap<string, InputPlan>;
  readonly #outputIndex: ReadonlyMap<string, number>;
  /** Per input: string -> code, for an input the graph takes as codes. */
  readonly #codes: readonly (ReadonlyMap<string, number> | undefined)[];
  readonly #codedInputs: readonly number[];
  #closed = false;
  /** Async runs handed to the addon and not yet settled. */
  #inFlight = 0;
  /** Async runs waiting for one of those to settle, first come first served. */
  readonly #waiting: ((handedOver: boolean) => void)[] = [];
  /** What this model's runs have cost per row in the core, µs (a moving average). */
  #usPerRow: number | undefined;
  #inlineRuns = 0;
  #poolRuns = 0;

  private constructor(native: NativeModel, options: ResolvedModelOptions) {
    this.#native = native;
    this.options = options;
    this.inputs = Object.freeze(native.inputs.map(freezeInfo));
    this.outputs = Object.freeze(native.outputs.map(freezeInfo));
    const m = native.metadata;
    this.metadata = Object.freeze({
      producerName: m.producerName,
      producerVersion: m.producerVersion,
      graphName: m.graphName,
      domain: m.domain,
      description: m.description,
      version: m.version,
      custom: Object.freeze(Object.fromEntries(m.custom.map(([k, v]) => [k!, v!]))),
    });
    this.inputPlans = Object.freeze(
      native.inputPlans.map((p) =>
        Object.freeze({
          name: p.name,
          type: p.type as ElementType,
          batch: p.batch,
          fixedRows: p.fixedRows ?? null,
          dims: Object.freeze([...p.dims]),
          width: p.width,
          jsType: p.jsType,
          unsupported: p.unsupported ?? null,
          categories: p.categories ? Object.freeze([...p.categories]) : null,
        }),
      ),
    );
    this.#codes = this.inputPlans.map((p) => (p.categories ? new Map(p.categories.map((c, i) => [c, i])) : undefined));
    this.#codedInputs = this.inputPlans.flatMap((p, i) => (p.categories ? [i] : []));
    this.#maxRows = loadBinding().MAX_ROWS;
    this.#planByName = new Map(this.inputPlans.map((p) => [p.name, p]));
    this.#outputIndex = new Map(this.outputs.map((o, i) => [o.name, i]));
  }

  /** Loads a model (a file path or its bytes) on the libuv thread pool. */
  static async load(pathOrBytes: string | Uint8Array, options?: ModelOptions): Promise<Model> {
    const source = checkSource(pathOrBytes);
    const resolved = resolveModelOptions(options);
    const binding = loadBinding();
    try {
      return new Model(
        await binding.loadModel(source, nativeOptions(resolved), ortLibraryCandidates(resolved.ortLibraryPath)),
        resolved,
      );
    } catch (err) {
      throw fromNative(err);
    }
  }

  /** `load` on the calling thread. */
  static loadSync(pathOrBytes: string | Uint8Array, options?: ModelOptions): Model {
    const source = checkSource(pathOrBytes);
    const resolved = resolveModelOptions(options);
    const binding = loadBinding();
    try {
      return new Model(
        binding.loadModelSync(source, nativeOptions(resolved), ortLibraryCandidates(resolved.ortLibraryPath)),
        resolved,
      );
    } catch (err) {
      throw fromNative(err);
    }
  }

  /**
   * Runs `rows` rows on the libuv thread pool; the event loop stays free. Each feed holds rows x
   * (its input's static non-batch dims) values and is read in place: do not write to a typed
   * array until the promise settles. Zero rows resolves empty outputs without running.
   *
   * A run that should cost less than handing it to a worker and back (`inlineBudgetMicros`, by
   * what this model's earlier runs measured) runs on the calling thread instead, when no other
   * run is in flight: at one row that is most of the latency. Such a run cannot be aborted once
   * started (it is over within the budget).
   */
  async run(feeds: Feeds, rows: number, options?: RunOptions): Promise<Record<string, Output>> {
    const { signal, selection } = this.#runOptions(options);
    const args = this.#prepare(feeds, rows);
    if (signal?.aborted) throw abortedError(signal);
    // Zero rows: the core checks the feeds and answers empty outputs without a session or a
    // thread hop, so it needs no place in the queue.
    if (rows === 0) {
      try {
        return this.#collect(this.#native.runSync(args.feeds, 0, args.strings, args.codes, selection), selection);
      } catch (err) {
        throw this.#nativeError(err, feeds);
      }
    }
    if (this.#inFlight === 0 && this.#inline(rows)) {
      let raw: NativeOutputs;
      try {
        raw = this.#native.runSync(args.feeds, rows, args.strings, args.codes, selection);
      } catch (err) {
        throw this.#nativeError(err, feeds);
      }
      this.#inlineRuns++;
      this.#measured(rows, raw);
      return this.#collect(raw, selection);
    }
    // Past `sessions` runs in flight, wait here rather than on a libuv worker: a worker blocked
    // waiting for a session is one the rest of the process (fs, dns, zlib) cannot use.
    if (this.#inFlight >= this.options.sessions) await this.#turn(signal);
    else this.#inFlight++;
    let onAbort: (() => void) | undefined;
    let raw: NativeOutputs;
    try {
      let handle: RunHandle | undefined;
      if (signal) {
        const h = new (loadBinding().RunHandle)();
        handle = h;
        onAbort = () => h.abort();
        signal.addEventListener('abort', onAbort, { once: true });
      }
      raw = await this.#native.run(args.feeds, rows, args.strings, args.codes, selection, handle);
      this.#poolRuns++;
      this.#measured(rows, raw);
    } catch (err) {
      const e = this.#nativeError(err, feeds);
      throw e.code === 'RUN_ABORTED' && signal ? abortedError(signal) : e;
    } finally {
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
      this.#release();
    }
    return this.#collect(raw, selection);
  }

  /**
   * Whether a run of `rows` rows should go inline: what this model's runs have cost (measured
   * by the core, on the pool or inline) predicts this one within the budget. Before any run has
   * been measured, none goes inline: a model of unknown cost could block the loop for long.
   */
  #inline(rows: number): boolean {
    const perRow = this.#usPerRow;
    return perRow !== undefined && perRow * rows <= this.options.inlineBudgetMicros;
  }

  /**
   * Learns from a finished run (its core time is the last element of `raw`): a moving average
   * per row that falls fast and rises slowly, each run counted as at most twice the budget, so
   * that one run stretched by a GC or a busy core does not send the next ones to the pool, while
   * a model that really got slower gets there within a few dozen runs. The first measure (a cold
   * run, often ten times a warm one) is taken as it is and soon corrected downwards.
   */
  #measured(rows: number, raw: NativeOutputs): void {
    const micros = raw[raw.length - 1];
    if (typeof micros !== 'number' || rows === 0) return;
    const perRow = micros / rows;
    const prev = this.#usPerRow;
    if (prev === undefined) {
      this.#usPerRow = perRow;
      return;
    }
    const x = Math.min(perRow, Math.max(prev, 2 * this.options.inlineBudgetMicros));
    this.#usPerRow = prev + (x - prev) / (x < prev ? 4 : 32);
  }

  /**
   * How `run` has run this model: calls that ran inline and on the pool (zero-row calls are
   * neither), and the cost per row it predicts from, µs (null before the first run).
   */
  get runStats(): Readonly<{ inline: number; pool: number; microsPerRow: number | null }> {
    return { inline: this.#inlineRuns, pool: this.#poolRuns, microsPerRow: this.#usPerRow ?? null };
  }

  /** Hands this run's place to the first waiting run, or frees it. */
  #release(): void {
    const next = this.#waiting.shift();
    if (next) next(true);
    else this.#inFlight--;
  }

  /**
   * Resolves when a finishing run hands over its place; rejects if the model closes or the
   * signal aborts first.
   */
  #turn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const i = this.#waiting.indexOf(wake);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(abortedError(signal!));
      };
      const wake = (handedOver: boolean) => {
        signal?.removeEventListener('abort', onAbort);
        if (!this.#closed) return resolve();
        if (handedOver) this.#release();
        reject(closedError());
      };
      this.#waiting.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** `run` on the calling thread (blocks the event loop for the run; fastest for tiny batches). */
  runSync(feeds: Feeds, rows: number, options?: Omit<RunOptions, 'signal'>): Record<string, Output> {
    const { signal, selection } = this.#runOptions(options);
    if (signal) throw option('signal', 'is for run(); runSync cannot be aborted');
    const args = this.#prepare(feeds, rows);
    let raw: NativeOutputs;
    try {
      raw = this.#native.runSync(args.feeds, rows, args.strings, args.codes, selection);
    } catch (err) {
      throw this.#nativeError(err, feeds);
    }
    return this.#collect(raw, selection);
  }

  /**
   * Releases the model. Runs in flight finish; runs not yet started and every later call fail
   * with MODEL_CLOSED. Idempotent.
   */
  close(): void {
    this.#closed = true;
    this.#native.close();
    for (const wake of this.#waiting.splice(0)) wake(false);
  }

  get closed(): boolean {
    return this.#closed;
  }

  #runOptions(options: RunOptions | undefined): { signal: AbortSignal | undefined; selection: number[] | undefined } {
    if (options === undefined) return { signal: undefined, selection: undefined };
    if (options === null || typeof options !== 'object')
      throw new ScorerError('INVALID_OPTION', `run options must be an object, got ${describe(options)}`);
    for (const key in options) {
      if (!RUN_OPTION_KEYS.has(key)) throw option(key, 'is not a run option (options: signal, outputs)');
    }
    const { signal, outputs } = options;
    if (
      signal !== undefined &&
      (signal === null ||
        typeof signal !== 'object' ||
        typeof signal.addEventListener !== 'function' ||
        typeof signal.aborted !== 'boolean')
    ) {
      throw option('signal', 'must be an AbortSignal');
    }
    if (outputs === undefined) return { signal, selection: undefined };
    if (!Array.isArray(outputs) || outputs.length === 0)
      throw option('outputs', 'must be a non-empty array of output names');
    const selection: number[] = [];
    for (const name of outputs) {
      const i = this.#outputIndex.get(name);
      if (i === undefined)
        throw option(
          'outputs',
          `names "${String(name)}", which is not an output of the model (outputs: ${this.outputs.map((o) => o.name).join(', ')})`,
        );
      if (selection.includes(i)) throw option('outputs', `names "${name}" twice`);
      selection.push(i);
    }
    return { signal, selection };
  }

  /**
   * Lays the feeds out for the addon: each named input in its place (unknown and missing names
   * are errors here, where the names are), string inputs packed. Types and lengths are the
   * core's to check.
   */
  #prepare(feeds: Feeds, rows: number): Prepared {
    if (this.#closed) throw closedError();
    if (typeof rows !== 'number' || !Number.isInteger(rows) || rows < 0 || rows > this.#maxRows) {
      throw new ScorerError('INVALID_ROWS', `rows must be an integer from 0 to ${this.#maxRows}, got ${String(rows)}`);
    }
    if (feeds === null || typeof feeds !== 'object' || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
      throw new ScorerError(
        'INVALID_FEEDS',
        `feeds must be an object of input name -> column block, got ${describe(feeds)}`,
      );
    }
    const plans = this.inputPlans;
    const args: NativeFeeds = new Array(plans.length);
    let strings: string | undefined;
    for (const key in feeds) {
      if (!this.#planByName.has(key)) throw this.#unknownInput(key);
    }
    // Every coded input's codes go into one buffer, as the strings go into one string: one
    // allocation and one crossing per run, however many inputs.
    let codeCount = 0;
    for (const i of this.#codedInputs) {
      const feed = feeds[plans[i]!.name];
      if (Array.isArray(feed) || feed instanceof BigInt64Array) codeCount += feed.length;
    }
    const codes = codeCount > 0 ? new BigInt64Array(codeCount) : undefined;
    const halves = codes ? new Int32Array(codes.buffer) : undefined;
    let codeAt = 0;
    for (let i = 0; i < plans.length; i++) {
      const p = plans[i]!;
      const feed = feeds[p.name];
      if (feed === undefined) throw new ScorerError('MISSING_INPUT', `input "${p.name}" is missing`, { input: p.name });
      if (p.jsType !== 'string') {
        args[i] = feed as Exclude<typeof feed, string[]>;
        continue;
      }
      const index = this.#codes[i];
      if (index !== undefined && feed instanceof BigInt64Array) {
        codes!.set(feed, codeAt);
        codeAt += feed.length;
        args[i] = feed.length;
        continue;
      }
      if (!Array.isArray(feed)) {
        throw new ScorerError(
          'INPUT_TYPE_MISMATCH',
          `input "${p.name}" expects string (string[]), got ${describe(feed)}`,
          {
            input: p.name,
            expected: 'string',
            got: describe(feed),
          },
        );
      }
      if (index !== undefined) {
        encodeInto(p.name, feed, index, halves!, codeAt);
        codeAt += feed.length;
        args[i] = feed.length;
        continue;
      }
      // Joining would turn anything into a string: check, since only strings may pass.
      for (let j = 0; j < feed.length; j++) {
        if (typeof feed[j] !== 'string') {
          throw new ScorerError(
            'INPUT_TYPE_MISMATCH',
            `input "${p.name}" expects strings, got ${describe(feed[j])} at index ${j}`,
            { input: p.name, expected: 'string', got: describe(feed[j]), index: j },
          );
        }
      }
      // NUL cannot occur inside an ORT string, so it can separate the values. An empty input adds
      // nothing: "" would read as one empty value.
      if (feed.length > 0) {
        const joined = feed.join('\0');
        strings = strings === undefined ? joined : `${strings}\0${joined}`;
      }
      args[i] = feed.length;
    }
    return { feeds: args, strings, codes };
  }

  #unknownInput(name: string): ScorerError {
    return new ScorerError(
      'UNKNOWN_INPUT',
      `"${name}" is not an input of the model (inputs: ${this.inputs.map((i) => i.name).join(', ')})`,
      { input: name },
    );
  }

  #nativeError(err: unknown, feeds: Feeds): ScorerError {
    const e = fromNative(err);
    if (e.code === 'MODEL_CLOSED') this.#closed = true;
    if (e.code === 'INPUT_TYPE_MISMATCH' && e.details?.reason === 'nul_in_string') {
      // The addon counted more strings than the inputs hold: a value holds a NUL. Only this
      // error path pays for finding which.
      for (const p of this.inputPlans) {
        const col = p.jsType === 'string' ? (feeds[p.name] as string[]) : undefined;
        const j = col?.findIndex((v) => v.includes('\0')) ?? -1;
        if (j >= 0) return nulError(p.name, j, e);
      }
    }
    return e;
  }

  #collect(raw: NativeOutputs, selection: number[] | undefined): Record<string, Output> {
    const out: Record<string, Output> = {};
    const n = raw.length >> 1;
    for (let k = 0; k < n; k++) {
      const info = this.outputs[selection === undefined ? k : selection[k]!]!;
      out[info.name] = { type: info.type, shape: raw[2 * k + 1] as number[], data: raw[2 * k] as OutputData };
    }
    return out;
  }
}

function freezeInfo(info: { name: string; type: string; shape: (number | null | undefined)[] }): TensorInfo {
  return Object.freeze({
    name: info.name,
    type: info.type as ElementType,
    shape: Object.freeze(info.shape.map((d) => d ?? null)),
  });
}
