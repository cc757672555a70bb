// One table from error code to HTTP status, and one error body shape:
//   {"error": {"code": "...", "message": "...", "details": {...}}}
// Codes raised by the scorer (ScorerError) and by the gateway itself share the table; a code
// missing from it is a bug and answers 500 INTERNAL.

export interface ErrorInfo {
  readonly status: number;
  readonly doc: string;
}

export const ERROR_TABLE = {
  // 400: the request cannot be read or does not have the expected shape
  MALFORMED_BODY: {
    status: 400,
    doc: 'The body is not valid JSON / MessagePack, or the binary tensor data does not match its header.',
  },
  INVALID_REQUEST: {
    status: 400,
    doc: 'The body parsed but has the wrong shape (e.g. `instances` not an array, an OIP tensor without `shape`).',
  },
  UNKNOWN_INPUT: { status: 400, doc: 'OIP: a tensor names no input of the model.' },
  MISSING_INPUT: { status: 400, doc: 'OIP: an input of the model has no tensor.' },
  UNKNOWN_OUTPUT: { status: 400, doc: 'OIP: a requested output is not an output of the model.' },
  INPUT_TYPE_MISMATCH: { status: 400, doc: 'OIP: a tensor has a datatype the input does not take.' },
  INPUT_SHAPE_MISMATCH: { status: 400, doc: 'OIP: a tensor has the wrong shape or element count.' },
  INVALID_ROWS: { status: 400, doc: 'OIP: the batch dimension is not a non-negative integer.' },
  // 401 / 403: admin routes
  UNAUTHORIZED: { status: 401, doc: 'Admin route without the right `Authorization: Bearer <admin.token>`.' },
  ADMIN_DISABLED: { status: 403, doc: 'Admin routes are off because no `admin.token` is configured.' },
  // 404 / 405
  MODEL_NOT_FOUND: { status: 404, doc: 'No model of that name in the repository.' },
  VERSION_NOT_FOUND: { status: 404, doc: 'The model has no such version.' },
  ROUTE_NOT_FOUND: { status: 404, doc: 'No such endpoint.' },
  LIVE_NOT_AVAILABLE: {
    status: 404,
    doc: 'GET /v1/live: the live statistics are computed from the metrics, and `metrics.enabled` is off.',
  },
  CONSOLE_NOT_BUILT: {
    status: 404,
    doc: 'The console is on but its assets were not built (`pnpm --filter @ortline/console run build`, which the set-up runs).',
  },
  DRIFT_NOT_WATCHED: {
    status: 404,
    doc: 'Drift is not watched for the version: `drift.enabled` is off (`details.reason` disabled), or its model card has no `reference` section (no_reference).',
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    doc: 'The endpoint exists but not for this method; `Allow` lists the ones it takes.',
  },
  // 409: the admin asked for a change the model's current state does not allow
  VERSION_IN_USE: {
    status: 409,
    doc: 'Admin: the version is the active or canary version; route traffic away from it first.',
  },
  VERSION_NOT_LOADED: {
    status: 409,
    doc: 'Admin: routing names a version that is not loaded and ready; load it first.',
  },
  MODEL_CONTROL_DISABLED: {
    status: 409,
    doc: 'Admin: load and unload are off (`models.control` none); routing changes still work.',
  },
  VERSION_BUSY: { status: 409, doc: 'Admin: the version is loading or draining; retry when it is done.' },
  NO_PREVIOUS_VERSION: {
    status: 409,
    doc: 'Admin: rollback with no previous version, or one that is no longer loaded.',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    doc: 'The body did not arrive within `bodyTimeoutMs` of the request; the connection is closed.',
  },
  // 413 / 415 / 422
  BODY_TOO_LARGE: { status: 413, doc: 'The body is larger than `maxBodyBytes`.' },
  TOO_MANY_INSTANCES: { status: 413, doc: 'More records in one request than `maxInstances`.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    doc: 'Content-Type is not JSON or MessagePack (or OIP binary tensors), or the body is compressed.',
  },
  INVALID_FEATURES: {
    status: 422,
    doc: 'Records failed the feature schema; `details.issues` lists every bad field of every row.',
  },
  MODEL_REJECTED: {
    status: 422,
    doc: 'Admin: the version failed its gate (`details.reason`: card_invalid, load_failed, schema_mismatch, parity_failed, warmup_failed) and takes no traffic.',
  },
  INVALID_ROUTING: {
    status: 422,
    doc: 'Admin: the routing breaks a rule (canary or shadow equal to the active version, weight outside 0..1, ...).',
  },
  // 429 / 503
  QUEUE_FULL: {
    status: 503,
    doc: "The model's queue is full; retry after `Retry-After` seconds (status 429 or 503, see `overloadStatus`).",
  },
  MODEL_NOT_READY: { status: 503, doc: 'The model version is not loaded and warmed yet.' },
  SHUTTING_DOWN: { status: 503, doc: 'The gateway is draining before exit.' },
  BATCHER_CLOSED: { status: 503, doc: 'The model version stopped taking requests (shutdown).' },
  STREAM_OVERLOADED: {
    status: 503,
    doc: 'WebSocket: too many frames in flight on this connection (`ws.maxInFlight`).',
  },
  CACHE_UNAVAILABLE: {
    status: 503,
    doc: 'Admin cache flush: L1 was flushed but Redis could not be (not connected, or too slow); `details.l1_deleted` says how many L1 entries went.',
  },
  // 504 / 499
  DEADLINE_EXCEEDED: {
    status: 504,
    doc: "The request's deadline (`x-request-timeout-ms`, OIP `parameters.timeout`, a frame's `timeout_ms`, else `requestTimeoutMs`) passed before its rows ran; they were not run.",
  },
  CANCELLED: {
    status: 499,
    doc: 'The client went away before its rows ran; they were not run. Counted, never sent (no one is left to read it).',
  },
  // 500
  ROUTING_NOT_SAVED: {
    status: 500,
    doc: 'Admin: serving.json could not be written; the routing is unchanged (memory and disk agree).',
  },
  INTERNAL: { status: 500, doc: 'A bug or a native failure; logged with the request id.' },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_TABLE;

/** An error meant for the client: a stable code, a message naming the field, details. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

export interface ClientError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
  /** The original error when it was not one meant for the client (logged, not sent). */
  readonly internal?: unknown;
}

/** Any thrown value -> what the client is told. Unknown codes and non-errors become INTERNAL. */
export function toClientError(err: unknown, overloadStatus: number): ClientError {
  if (err !== null && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string') {
    const e = err as { code: string; message?: unknown; details?: unknown };
    const info = Object.hasOwn(ERROR_TABLE, e.code) ? (ERROR_TABLE as Record<string, ErrorInfo>)[e.code] : undefined;
    if (info) {
      const details = e.details !== null && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : {};
      const status = e.code === 'QUEUE_FULL' ? overloadStatus : info.status;
      return { status, code: e.code, message: String(e.message ?? e.code), details: stripCause(details) };
    }
  }
  return { status: 500, code: 'INTERNAL', message: 'internal error', details: {}, internal: err };
}

function stripCause(details: Record<string, unknown>): Record<string, unknown> {
  if (!('cause' in details)) return details;
  const { cause: _cause, ...rest } = details;
  return rest;
}

export function errorBody(e: Pick<ClientError, 'code' | 'message' | 'details'>): {
  error: { code: string; message: string; details: Record<string, unknown> };
} {
  return { error: { code: e.code, message: e.message, details: e.details } };
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Pre-built status lines: `200 OK`, ... (uWebSockets.js writes the string as is). */
export function statusLine(status: number): string {
  return STATUS_LINES.get(status) ?? `${status} ${REASONS[status] ?? 'Unknown'}`;
}
const STATUS_LINES = new Map(Object.entries(REASONS).map(([s, r]) => [Number(s), `${s} ${r}`]));
