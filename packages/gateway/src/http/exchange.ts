// One HTTP request and its answer on uWebSockets.js. What the handler needs from `req` is copied
// at once (req dies with the handler's synchronous part); `onAborted` is registered before any
// await; every write happens inside `cork` and never after an abort or a first answer.
import { type ClientError, errorBody, statusLine, toClientError } from '../errors.js';
import type { RequestLogger } from '../log.js';
import { type ModelLabels, NO_MODEL, type RouteMetric } from '../metrics/index.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import {
  type Format,
  JSON_FORMAT,
  MSGPACK_FORMAT,
  packMsgpack,
  requestFormat,
  responseFormat,
  UNSUPPORTED,
} from './codec.js';
import { TIMEOUT_HEADER } from './deadline.js';
import { type Shedder, shedVerdict } from './pressure.js';

/** What every exchange shares: decided once at start-up. */
export interface ExchangeContext {
  readonly overloadStatus: number;
  readonly retryAfter: string;
  readonly maxBodyBytes: number;
  /** Undefined unless `log.requests` is on: then nothing is built per request for it. */
  readonly logRequest: RequestLogger | undefined;
  readonly logError: (err: unknown, ex: Exchange, client: ClientError) => void;
  readonly nextRequestId: () => string;
  /** True while draining for shutdown: answers close their connection. */
  draining: boolean;
  /** Requests started and not yet answered or aborted (shutdown waits for zero). */
  inFlight: number;
  /** Exchanges whose body came in more than one chunk and is not all in yet (sweepSlowBodies). */
  readonly readingBodies: Set<Exchange>;
  /** How long a body may take to arrive, from the request's start. */
  readonly bodyTimeoutMs: number;
  /** Load shedding before a scoring body is parsed (pressure.ts). */
  readonly shedder: Shedder;
}

/**
 * Answers 408 (closing the connection) every request whose body has been arriving for longer
 * than `bodyTimeoutMs`: a client that trickles its body holds neither a connection nor memory
 * past it. Called four times a second; a body that arrives in one chunk never enters the set.
 */
export function sweepSlowBodies(ctx: ExchangeContext, now = performance.now()): void {
  for (const ex of ctx.readingBodies) {
    if (now - ex.start <= ctx.bodyTimeoutMs) continue;
    ctx.readingBodies.delete(ex);
    ex.dropBody();
    ex.fail(
      {
        code: 'REQUEST_TIMEOUT',
        message: `the body did not arrive within ${ctx.bodyTimeoutMs} ms`,
        details: { limitMs: ctx.bodyTimeoutMs },
      },
      true,
    );
  }
}

// Bodies larger than this are collected chunk by chunk as they arrive, not into one buffer of the
// announced Content-Length: a client that announces 16 MB and trickles it holds what it sent.
const PREALLOCATE_MAX_BYTES = 1 << 20;

const OK = '200 OK';
const CT_JSON = 'application/json';
const CT_MSGPACK = 'application/msgpack';

// Module-level slots read by the cork callback: cork runs synchronously, so one shared function
// replaces a closure per response.
let wRes: HttpResponse | undefined;
let wStatus = '';
let wType = '';
let wBody: string | Uint8Array = '';
let wClose = false;
let wExtra: readonly string[] | undefined;
let wReqId = '';

function writeCorked(): void {
  const res = wRes!;
  res.writeStatus(wStatus);
  res.writeHeader('content-type', wType);
  if (wReqId !== '') res.writeHeader('x-request-id', wReqId);
  const extra = wExtra;
  if (extra !== undefined) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i]!, extra[i + 1]!);
  res.end(wBody, wClose);
}

/**
 * The exchange opened last. A route handler that throws before answering is answered 500 through
 * it when it is that request's (Router), so the client is never left waiting.
 */
export const opened: { last: Exchange | undefined } = { last: undefined };

export class Exchange {
  readonly res: HttpResponse;
  readonly ctx: ExchangeContext;
  readonly route: RouteMetric;
  readonly method: string;
  readonly url: string;
  readonly contentType: string;
  readonly contentLength: number;
  readonly contentEncoding: string;
  readonly accept: string;
  readonly inferenceHeaderLength: string;
  /** `Cache-Control` of a request with a body ('' when absent): the per-request cache opt-out. */
  readonly cacheControl: string;
  /** `x-request-timeout-ms` of a request with a body ('' when absent). */
  readonly timeoutHeader: string;
  /**
   * The request's deadline (`performance.now()` time, deadline.ts), once its handler has set it.
   * With `signal` the exchange is the scorer's CallOptions: no object per request for them.
   */
  deadline: number | undefined = undefined;
  /** The timeout the client's header asked for, in ms, until the deadline is set from it. */
  clientTimeoutMs: number | undefined = undefined;
  /** The client's x-request-id, else '' until an id is needed (errors, request log). */
  reqId: string;
  readonly clientReqId: boolean;
  readonly start: number;
  labels: ModelLabels = NO_MODEL;
  /** The model version the request is for, once resolved. */
  model: ModelVersion | undefined;
  /** The version the path named ('' when the model's routing picks it). */
  pinned = '';
  /** The request body's format, once checked. */
  format: Format = JSON_FORMAT;
  aborted = false;
  answered = false;
  private chunks: Buffer[] | undefined;
  private buffer: Buffer | undefined;
  private received = 0;

  constructor(
    res: HttpResponse,
    req: HttpRequest,
    ctx: ExchangeContext,
    route: RouteMetric,
    withBody: boolean,
    oip = false,
  ) {
    this.res = res;
    this.ctx = ctx;
    this.route = route;
    this.start = performance.now();
    this.method = req.getCaseSensitiveMethod();
    this.url = req.getUrl();
    this.accept = req.getHeader('accept');
    const rid = req.getHeader('x-request-id');
    this.reqId = rid;
    this.clientReqId = rid !== '';
    if (withBody) {
      this.contentType = req.getHeader('content-type');
      const cl = req.getHeader('content-length');
      this.contentLength = cl === '' ? -1 : Number(cl);
      this.contentEncoding = req.getHeader('content-encoding');
      this.inferenceHeaderLength = oip ? req.getHeader('inference-header-content-length') : '';
      this.cacheControl = req.getHeader('cache-control');
      this.timeoutHeader = req.getHeader(TIMEOUT_HEADER);
    } else {
      this.cacheControl = '';
      this.timeoutHeader = '';
      this.contentType = '';
      this.contentLength = -1;
      this.contentEncoding = '';
      this.inferenceHeaderLength = '';
    }
    ctx.inFlight++;
    opened.last = this;
    res.onAborted(() => {
      if (this.aborted || this.answered) return;
      this.aborted = true;
      if (this.received > 0) this.dropBody();
      // 499 (nginx's "client closed request"): counted, never written.
      this.route.observe(this.labels, 499, (performance.now() - this.start) / 1000);
      this.finish();
    });
  }

  /** The scorer's cancellation signal: `aborted` once the client went away. */
  get signal(): this {
    return this;
  }

  /** Request body format, or UNSUPPORTED (415). */
  bodyFormat(): Format | typeof UNSUPPORTED {
    if (this.contentEncoding !== '' && this.contentEncoding !== 'identity') return UNSUPPORTED;
    return requestFormat(this.contentType);
  }

  answerFormat(fallback: Format): Format {
    return responseFormat(this.accept, fallback);
  }

  /**
   * Reads the body, then calls `done(this, bytes)` once. `bytes` may be a view over memory uWS
   * reclaims when `done` returns: decode or copy it synchronously. Over `maxBodyBytes`: 413.
   */
  readBody(done: (ex: Exchange, bytes: Uint8Array) => void): void {
    const max = this.ctx.maxBodyBytes;
    if (this.contentLength > max) {
      this.fail(
        {
          code: 'BODY_TOO_LARGE',
          message: `body of ${this.contentLength} bytes is over the limit of ${max} bytes`,
          details: { limit: max },
        },
        true,
      );
      return;
    }
    this.res.onData((chunk, isLast) => {
      if (this.aborted || this.answered) return;
      const n = chunk.byteLength;
      if (isLast && this.received === 0) {
        // The common case: the whole body in one chunk, consumed before uWS takes it back.
        this.received = n;
        done(this, new Uint8Array(chunk));
        return;
      }
      // Several chunks: into one buffer of Content-Length bytes when given and not large.
      if (this.received === 0) {
        if (this.contentLength > 0 && this.contentLength <= PREALLOCATE_MAX_BYTES)
          this.buffer = Buffer.allocUnsafe(this.contentLength);
        this.ctx.readingBodies.add(this);
      }
      if (this.received + n > max) {
        this.dropBody();
        this.fail(
          { code: 'BODY_TOO_LARGE', message: `body is over the limit of ${max} bytes`, details: { limit: max } },
          true,
        );
        return;
      }
      const src = new Uint8Array(chunk);
      if (this.buffer !== undefined && this.received + n <= this.buffer.length) {
        this.buffer.set(src, this.received);
      } else {
        // No or a wrong Content-Length: collect copies.
        if (this.buffer !== undefined) {
          this.chunks ??= [];
          this.chunks.push(this.buffer.subarray(0, this.received));
          this.buffer = undefined;
        }
        this.chunks ??= [];
        this.chunks.push(Buffer.from(src));
      }
      this.received += n;
      if (isLast) {
        const body = this.chunks ? Buffer.concat(this.chunks) : this.buffer!.subarray(0, this.received);
        this.dropBody();
        done(this, body);
      }
    });
  }

  /**
   * Refuses the request with QUEUE_FULL, its body let by unread, when the server is past what it
   * can do (pressure.ts); call once the model version is resolved. True when it refused.
   */
  shed(): boolean {
    const mv = this.model;
    const verdict = mv === undefined ? undefined : shedVerdict(this.ctx.shedder, mv);
    if (verdict === undefined) return false;
    this.ctx.shedder.count(verdict.reason);
    const err = { code: 'QUEUE_FULL', message: verdict.message, details: verdict.details };
    if (this.contentLength > this.ctx.maxBodyBytes) {
      // Not read at all: the 413 path closes the connection, and so does this.
      this.fail(err, true);
      return true;
    }
    this.res.onData((_chunk, isLast) => {
      if (this.aborted || this.answered) return;
      if (!isLast) {
        this.ctx.readingBodies.add(this);
        return;
      }
      this.ctx.readingBodies.delete(this);
      this.fail(err);
    });
    return true;
  }

  /** Lets go of a partly received body (and stops watching it). */
  dropBody(): void {
    this.chunks = undefined;
    this.buffer = undefined;
    this.ctx.readingBodies.delete(this);
  }

  /** A pre-rendered JSON body. `extraHeaders`: name, value, name, value, ... */
  sendJson(status: number, json: string, extraHeaders?: readonly string[]): void {
    this.writeWith(status, CT_JSON, json, extraHeaders, false);
  }

  /** Any value, in the format the client accepts (JSON unless it asks for MessagePack). */
  sendValue(status: number, value: unknown, fallback: Format = JSON_FORMAT, extraHeaders?: readonly string[]): void {
    if (this.answerFormat(fallback) === MSGPACK_FORMAT)
      this.writeWith(status, CT_MSGPACK, packMsgpack(value), extraHeaders, false);
    else this.writeWith(status, CT_JSON, JSON.stringify(value), extraHeaders, false);
  }

  sendRaw(status: number, contentType: string, body: string | Uint8Array, extraHeaders?: readonly string[]): void {
    this.writeWith(status, contentType, body, extraHeaders, false);
  }

  /** The request's id: the client's x-request-id, else one made up now (and kept). */
  requestId(): string {
    if (this.reqId === '') this.reqId = this.ctx.nextRequestId();
    return this.reqId;
  }

  /** Any thrown value -> the error table's status and the one error body shape. */
  fail(err: unknown, closeConnection = false, fallback: Format = JSON_FORMAT, extraHeaders?: readonly string[]): void {
    if (this.aborted || this.answered) return;
    const client = toClientError(err, this.ctx.overloadStatus);
    this.requestId();
    // Only bugs are logged: overload and shutdown answers (503) are expected, and logging each
    // would turn an overload into a log storm. Metrics count them.
    if (client.status === 500) this.ctx.logError(err, this, client);
    let headers = extraHeaders;
    if (client.status === 503 || client.status === 429)
      headers = [...(headers ?? []), 'retry-after', this.ctx.retryAfter];
    const body = errorBody(client);
    if (this.answerFormat(fallback) === MSGPACK_FORMAT)
      this.writeWith(client.status, CT_MSGPACK, packMsgpack(body), headers, closeConnection);
    else this.writeWith(client.status, CT_JSON, JSON.stringify(body), headers, closeConnection);
  }

  private writeWith(
    code: number,
    type: string,
    body: string | Uint8Array,
    extra: readonly string[] | undefined,
    close: boolean,
  ): void {
    if (this.aborted || this.answered) return;
    this.answered = true;
    wRes = this.res;
    wStatus = code === 200 ? OK : statusLine(code);
    wType = type;
    wBody = body;
    wExtra = extra;
    wClose = close || this.ctx.draining;
    wReqId = this.clientReqId || code >= 400 ? this.reqId : '';
    this.res.cork(writeCorked);
    wRes = undefined;
    wBody = '';
    this.route.observe(this.labels, code, (performance.now() - this.start) / 1000);
    this.finish();
    const log = this.ctx.logRequest;
    if (log !== undefined) {
      log({
        reqId: this.requestId(),
        method: this.method,
        url: this.url,
        status: code,
        durationMs: performance.now() - this.start,
      });
    }
  }

  private finish(): void {
    this.ctx.inFlight--;
  }
}
