// The public types of @ortline/scorer.

/** Element type of a model input or output. Non-tensor values are 'sequence', 'map', 'optional'. */
export type ElementType =
  | 'float32'
  | 'float64'
  | 'int32'
  | 'int64'
  | 'string'
  | 'bool'
  | 'uint8'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'float16'
  | 'bfloat16'
  | 'complex64'
  | 'complex128'
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'uint4'
  | 'int4'
  | 'sequence'
  | 'map'
  | 'optional'
  | 'unknown';

/**
 * How one input is fed: the core's input plan (crates/ortline-core/src/plan.rs), exported by the
 * addon. Every layer reads it instead of restating the shape rules.
 */
export interface InputPlan {
  readonly name: string;
  readonly type: ElementType;
  /** 'rows': the first dimension is the row count; 'fixed': it is `fixedRows`; 'scalar': rank 0. */
  readonly batch: 'rows' | 'fixed' | 'scalar';
  readonly fixedRows: number | null;
  /** The static non-batch dimensions. */
  readonly dims: readonly number[];
  /** Values per row: the product of `dims`. */
  readonly width: number;
  /** The JS value a feed of it is: a typed array class name ('Float32Array', ...) or 'string' (a string[]). */
  readonly jsType: string;
  /** Why it cannot be fed, or null when it can. */
  readonly unsupported: string | null;
  /**
   * A string input that reaches ONNX Runtime as integer codes (the `categoricalCodes` option):
   * its categories, code i being the i-th. Its feed is a string[] as usual, or a BigInt64Array of
   * the codes themselves (any other code reads as an unknown string). Null otherwise.
   */
  readonly categories: readonly string[] | null;
}

export interface TensorInfo {
  readonly name: string;
  readonly type: ElementType;
  /** `null` for a dynamic dimension. The first dimension is the batch (rows). */
  readonly shape: readonly (number | null)[];
}

/**
 * One input's column block: rows x (the input's static non-batch dims) values, row-major.
 * Typed arrays are read in place by ONNX Runtime (no copy; a subarray view works); strings are
 * copied. Feed by element type: float32 Float32Array, float64 Float64Array, int32 Int32Array,
 * int64 BigInt64Array, string string[], bool and uint8 Uint8Array (bool values 0 or 1), int8
 * Int8Array, int16 Int16Array, uint16 Uint16Array, uint32 Uint32Array, uint64 BigUint64Array,
 * float16 and bfloat16 Uint16Array (the bit patterns).
 */
export type Feed =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | string[]
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** Input name -> its column block. */
export type Feeds = Record<string, Feed>;

/** Output blocks come back in the same array types as feeds. */
export type OutputData = Feed;

export interface Output {
  readonly type: ElementType;
  /** The actual shape of this run's output (no dynamic dims). */
  readonly shape: readonly number[];
  /** Typed arrays over the native result buffer (no copy); bool as Uint8Array, float16 as Uint16Array bits. */
  readonly data: OutputData;
}

export type GraphOptimizationLevel = 'disable' | 'basic' | 'extended' | 'all';

export interface ModelOptions {
  /** Threads one run may use inside an operator. Integer 0..1024, default 1 (0: ONNX Runtime picks). */
  readonly intraOpThreads?: number;
  /** Threads for independent graph branches. Integer 0..1024, default 1 (0: ONNX Runtime picks). */
  readonly interOpThreads?: number;
  /** Default 'all'. */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /** In order of preference. Default ['cpu']; 'cuda' where the ONNX Runtime library has it. */
  readonly executionProviders?: readonly string[];
  /** Sessions in the pool: runs that go at once on this model. Integer 1..64, default 1. */
  readonly sessions?: number;
  /**
   * Default true: string inputs that feed only a one-hot encoder reach ONNX Runtime as integer
   * codes (the graph is rewritten at load; callers still pass strings, and get the same answers).
   * False loads the graph as it is.
   */
  readonly categoricalCodes?: boolean;
  /**
   * A run predicted to cost at most this many microseconds runs on the calling thread, when no
   * other run is in flight: the hand-off to a worker and back costs 15 to 40 µs, more than a
   * one-row run of a small model. Predicted from what the model's runs measured (the first run
   * always goes to the pool). A model whose cost depends on its input values (a loop, say)
   * defeats the prediction: give it 0. Integer 0..1000, default 30; 0 always uses the pool.
   */
  readonly inlineBudgetMicros?: number;
  /**
   * The ONNX Runtime shared library to load. Default: $ORT_DYLIB_PATH, else the copy inside the
   * onnxruntime-node package. ONNX Runtime loads once per process: the first load decides.
   */
  readonly ortLibraryPath?: string;
}

export interface RunOptions {
  /** Aborting ends the run (RUN_ABORTED) as soon as ONNX Runtime checks, between operators. */
  readonly signal?: AbortSignal;
  /** Only these outputs, by name (default: all). */
  readonly outputs?: readonly string[];
}

export interface ModelMetadata {
  readonly producerName: string;
  readonly producerVersion: string;
  readonly graphName: string;
  readonly domain: string;
  readonly description: string;
  readonly version: number;
  /** The ONNX model's metadata_props. */
  readonly custom: Readonly<Record<string, string>>;
}
