// Every error @ortline/scorer throws is a ScorerError with a stable `code`. Native (Rust) errors
// arrive as structured values (code, message, details; see crates/ortline-node/src/error.rs) and
// keep the code the core gave them. The table below is the list of codes; callers branch on
// them (the gateway maps them to HTTP statuses: the scorer itself knows nothing of HTTP).

/** What each code means. */
export const ERROR_CODES = Object.freeze({
  // Feeds (model.run / runSync, Batcher.infer). Messages name the input.
  UNKNOWN_INPUT: 'A feed names no input of the model.',
  MISSING_INPUT: 'An input of the model has no feed.',
  INPUT_TYPE_MISMATCH:
    "A feed is not the input's element type (e.g. Float64Array for a float32 input), or a string holds a NUL character.",
  INPUT_SHAPE_MISMATCH: "A feed's length is not rows x the input's static non-batch dimensions.",
  INVALID_ROWS: 'rows is not a non-negative integer, or does not fit the model (a fixed batch dimension).',
  INVALID_FEEDS: 'feeds is not an object of input name -> column block.',
  UNSUPPORTED_INPUT:
    'An input or output ortline cannot feed or return: a dynamic non-batch dimension, a sequence or map output, an exotic element type.',
  // Loading.
  MODEL_FILE_NOT_FOUND: 'The model file does not exist (or is a directory).',
  MODEL_INVALID: 'The file or bytes are not a model ONNX Runtime can load.',
  INVALID_OPTION: 'An option is unknown, of the wrong type or out of range; the message names it.',
  EP_UNAVAILABLE:
    'An execution provider was asked for that this ONNX Runtime does not have (or cannot start); the message lists what it has.',
  ORT_LIBRARY_NOT_FOUND:
    'No ONNX Runtime library where ortline looked (ortLibraryPath, ORT_DYLIB_PATH, onnxruntime-node); the message lists every place.',
  ORT_LIBRARY_INCOMPATIBLE:
    'A library was found but is not a usable ONNX Runtime (not ORT, older than 1.17, unloadable, or a second ORT in a process that already loaded one).',
  NATIVE_LOAD_FAILED: "The ortline native addon (.node) could not be loaded; `cause` holds each attempt's error.",
  // Running.
  MODEL_CLOSED: 'The model was closed.',
  RUN_ABORTED: "The run's AbortSignal fired (before or during the run).",
  RUN_FAILED: 'ONNX Runtime failed the run (the message is its own).',
  INTERNAL_ERROR: 'A bug in ortline (a caught native panic). Please report it.',
  // FeatureSchema and Batcher.
  INVALID_FEATURES: 'Records failed validation; details.issues lists every bad field of every row.',
  INVALID_SCHEMA: 'A feature schema does not fit the model or is malformed.',
  QUEUE_FULL: 'The batcher queue is at maxQueueRows; retry later.',
  DEADLINE_EXCEEDED: "The call's deadline passed before its rows ran; they were not run.",
  CANCELLED: "The call's signal was aborted before its rows ran; they were not run.",
  BATCHER_CLOSED: 'The batcher is closed.',
} as const);

export type ErrorCode = keyof typeof ERROR_CODES;

export class ScorerError extends Error {
  /** One of ERROR_CODES' keys. */
  readonly code: string;
  /** Structured context (the input or option concerned, expected and got, issues...). */
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message, details !== undefined && 'cause' in details ? { cause: details.cause } : undefined);
    this.name = 'ScorerError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/**
 * A native error (an Error with the core's `code` and `details`, see crates/ortline-node) as a
 * ScorerError with that code and those details. Anything else thrown by the addon is a bug:
 * INTERNAL_ERROR, with the original as its cause.
 */
export function fromNative(err: unknown): ScorerError {
  if (err instanceof ScorerError) return err;
  if (err instanceof Error) {
    const { code, details } = err as Error & { code?: unknown; details?: unknown };
    if (typeof code === 'string' && code in ERROR_CODES) {
      return new ScorerError(
        code,
        err.message,
        details !== null && typeof details === 'object' ? { ...(details as Record<string, unknown>) } : undefined,
      );
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ScorerError('INTERNAL_ERROR', `native call failed: ${message}`, { cause: err });
}
