// WebSocket /v1/stream: pipelined predictions on one connection.
//
// A frame is {"id": any, "record": {...}} or {"id": any, "instances": [...]}, optionally with
// "model" and "version" (default: the ?model= / ?version= of the connection URL, else the only
// model loaded), "cache", and "timeout_ms" (the frame's deadline, as x-request-timeout-ms). Text
// frames are JSON, binary frames MessagePack; an answer comes in the frame's format:
// {"id", "prediction": {...}} | {"id", "predictions": [...]} | {"id", "error": {...}}.
// Answers come in completion order, matched by id; any number may be in flight, up to
// `ws.maxInFlight`.
//
// Backpressure: answers are sent while the socket buffers less than `ws.sendCapBytes`; the rest
// wait in the connection's outbox and go out on `drain`. Answers of one micro-batch are sent
// together in one cork.
import { frameDirective } from '../cache/directive.js';
import { errorBody, GatewayError, toClientError } from '../errors.js';
import { decodeBody, type Format, JSON_FORMAT, MSGPACK_FORMAT, packMsgpack } from '../http/codec.js';
import { deadlineOf, timeoutFromField } from '../http/deadline.js';
import { type ModelLabels, NO_MODEL } from '../metrics/index.js';
import { scoreRouted, versionAt } from '../predict/route.js';
import type { TrafficContext } from '../predict/traffic.js';
import type { ModelEntry } from '../registry/entry.js';
import { uWS, type WebSocket } from '../uws.js';
import type { ServerParts } from './parts.js';

interface Conn {
  readonly model: string;
  readonly version: string;
  ws: WebSocket<Conn> | undefined;
  closed: boolean;
  /** Frames accepted and not yet answered (being scored, or waiting in the outbox). */
  inFlight: number;
  readonly outbox: (string | Buffer)[];
  readonly outboxBinary: boolean[];
  /** Index of the first unsent outbox entry (the array is compacted when emptied). */
  head: number;
  flushQueued: boolean;
  /** The scorer's signal for this connection's queued rows: aborted once it closed. */
  readonly signal: { aborted: boolean };
  flush: () => void;
  sendSome: () => void;
}

export interface StreamControl {
  /** Open connections. */
  readonly connections: ReadonlySet<WebSocket<Conn>>;
  /** Frames in flight over all connections. */
  inFlight(): number;
  /** Answers waiting for their socket to drain, over all connections. */
  pending(): number;
  /** Shutdown, first step: frames from now on are answered SHUTTING_DOWN; no new connections. */
  stopAccepting(): void;
  /** Shutdown, last step: closes every connection with 1001 (going away). */
  endAll(): void;
}

const noop = () => {};

export function mountStream(parts: ServerParts): StreamControl {
  const { config, metrics } = parts;
  const route = metrics.route('ws_stream');
  const timeoutMs = config.requestTimeoutMs;
  const cap = config.ws.sendCapBytes;
  const maxInFlight = config.ws.maxInFlight;
  const maxInstances = config.maxInstances;
  const overload = Number(config.overloadStatus);
  const connections = new Set<WebSocket<Conn>>();
  let closingAll = false;
  const traffic = parts.traffic;
  /** A frame as the traffic log sees it: the frame's id is the request id, when it has one. */
  const frameContext = (id: unknown, start: number): TrafficContext => ({
    requestId: () => (typeof id === 'string' || typeof id === 'number' ? String(id) : parts.ctx.nextRequestId()),
    start,
  });

  function sendSome(c: Conn): void {
    const ws = c.ws!;
    while (c.head < c.outbox.length && ws.getBufferedAmount() < cap) {
      const i = c.head++;
      ws.send(c.outbox[i]!, c.outboxBinary[i]!, false);
      c.outbox[i] = '';
      c.inFlight--;
    }
    if (c.head === c.outbox.length) {
      c.outbox.length = 0;
      c.outboxBinary.length = 0;
      c.head = 0;
    } else if (c.head > 1024 && c.head * 2 > c.outbox.length) {
      // A slow reader that never quite empties the outbox: drop the sent prefix now and then.
      c.outbox.splice(0, c.head);
      c.outboxBinary.splice(0, c.head);
      c.head = 0;
    }
  }

  function flush(c: Conn): void {
    c.flushQueued = false;
    if (c.closed) return;
    c.ws!.cork(c.sendSome);
  }

  function answer(
    c: Conn,
    message: string | Buffer,
    binary: boolean,
    labels: ModelLabels,
    status: number,
    start: number,
  ): void {
    route.observe(labels, status, (performance.now() - start) / 1000);
    if (c.closed) return;
    c.outbox.push(message);
    c.outboxBinary.push(binary);
    // Every answer settled in this microtask run goes out in one cork.
    if (!c.flushQueued) {
      c.flushQueued = true;
      queueMicrotask(c.flush);
    }
  }

  function answerError(c: Conn, id: unknown, err: unknown, format: Format, labels: ModelLabels, start: number): void {
    const e = toClientError(err, overload);
    if (e.status === 500) parts.log.error({ err: e.internal ?? err, code: e.code }, 'stream frame failed');
    const body = { id: id ?? null, status: e.status, ...errorBody(e) };
    answer(
      c,
      format === JSON_FORMAT ? JSON.stringify(body) : packMsgpack(body),
      format === MSGPACK_FORMAT,
      labels,
      e.status,
      start,
    );
  }

  async function score(
    c: Conn,
    id: unknown,
    entry: ModelEntry,
    pinned: string,
    frame: Record<string, unknown>,
    format: Format,
    start: number,
  ): Promise<void> {
    let labels = entry.active.labels;
    try {
      const instances = frame.instances;
      const idJson = format === JSON_FORMAT ? JSON.stringify(id ?? null) : '';
      const directive = frameDirective(frame.cache);
      const call = {
        deadline: deadlineOf(start, timeoutMs, timeoutFromField(frame.timeout_ms, 'timeout_ms')),
        signal: c.signal,
      };
      if (instances === undefined) {
        const record = frame.record;
        const records = [record];
        const routed = await scoreRouted(entry, pinned, records, directive, call);
        const mv = versionAt(routed, 0);
        labels = mv.labels;
        if (format === JSON_FORMAT)
          answer(
            c,
            `{"id":${idJson},"prediction":${mv.answers.json(record, routed.scores[0]!)}}`,
            false,
            labels,
            200,
            start,
          );
        else
          answer(
            c,
            packMsgpack({ id: id ?? null, prediction: mv.answers.object(record, routed.scores[0]!) }),
            true,
            labels,
            200,
            start,
          );
        traffic?.answered(frameContext(id, start), records, routed);
        return;
      }
      if (!Array.isArray(instances))
        throw new GatewayError('INVALID_REQUEST', '"instances" must be an array of records', { field: 'instances' });
      if (instances.length > maxInstances) {
        throw new GatewayError(
          'TOO_MANY_INSTANCES',
          `${instances.length} instances in one frame; the limit is ${maxInstances}`,
          { count: instances.length, limit: maxInstances },
        );
      }
      const routed = await scoreRouted(entry, pinned, instances, directive, call);
      const scores = routed.scores;
      labels = versionAt(routed, 0).labels;
      if (format === JSON_FORMAT) {
        let json = `{"id":${idJson},"predictions":[`;
        for (let i = 0; i < scores.length; i++)
          json += (i === 0 ? '' : ',') + versionAt(routed, i).answers.json(instances[i], scores[i]!);
        answer(c, `${json}]}`, false, labels, 200, start);
      } else {
        const predictions = new Array(scores.length);
        for (let i = 0; i < scores.length; i++)
          predictions[i] = versionAt(routed, i).answers.object(instances[i], scores[i]!);
        answer(c, packMsgpack({ id: id ?? null, predictions }), true, labels, 200, start);
      }
      traffic?.answered(frameContext(id, start), instances, routed);
    } catch (err) {
      answerError(c, id, err, format, labels, start);
    }
  }

  function onFrame(ws: WebSocket<Conn>, message: ArrayBuffer, isBinary: boolean): void {
    const start = performance.now();
    const c = ws.getUserData();
    const format: Format = isBinary ? MSGPACK_FORMAT : JSON_FORMAT;
    if (c.inFlight >= maxInFlight) {
      // A client that neither reads nor waits: stop before its unanswered frames pile up.
      if (c.outbox.length - c.head >= maxInFlight) {
        ws.end(1013, 'too many unread answers');
        return;
      }
      c.inFlight++;
      answerError(
        c,
        null,
        new GatewayError(
          'STREAM_OVERLOADED',
          `more than ${maxInFlight} frames in flight on this connection; wait for answers`,
          { limit: maxInFlight },
        ),
        format,
        NO_MODEL,
        start,
      );
      return;
    }
    c.inFlight++;
    let frame: unknown;
    try {
      // Decoded before returning: uWS reclaims `message` after this callback.
      frame = decodeBody(new Uint8Array(message), format);
    } catch (err) {
      answerError(c, null, new GatewayError('MALFORMED_BODY', (err as Error).message), format, NO_MODEL, start);
      return;
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      answerError(
        c,
        null,
        new GatewayError('INVALID_REQUEST', 'a frame must be an object: {"id", "record"} or {"id", "instances"}'),
        format,
        NO_MODEL,
        start,
      );
      return;
    }
    const f = frame as Record<string, unknown>;
    const id = f.id;
    if (closingAll) {
      answerError(
        c,
        id,
        new GatewayError('SHUTTING_DOWN', 'the gateway is shutting down; reconnect'),
        format,
        NO_MODEL,
        start,
      );
      return;
    }
    if (f.record === undefined && f.instances === undefined) {
      answerError(
        c,
        id,
        new GatewayError('INVALID_REQUEST', 'a frame needs "record" (one record) or "instances" (an array of records)'),
        format,
        NO_MODEL,
        start,
      );
      return;
    }
    const registry = parts.registry;
    if (registry === undefined) {
      answerError(c, id, new GatewayError('MODEL_NOT_READY', 'models are still loading'), format, NO_MODEL, start);
      return;
    }
    let name = typeof f.model === 'string' ? f.model : c.model;
    if (name === '') {
      const names = registry.names();
      if (names.length !== 1) {
        answerError(
          c,
          id,
          new GatewayError(
            'INVALID_REQUEST',
            `say which model: "model" in the frame or ?model= in the URL (models: ${names.join(', ')})`,
          ),
          format,
          NO_MODEL,
          start,
        );
        return;
      }
      name = names[0]!;
    }
    const version =
      typeof f.version === 'string' ? f.version : typeof f.version === 'number' ? String(f.version) : c.version;
    let entry: ModelEntry;
    let pinned = '';
    try {
      entry = registry.model(name);
      // Checked here so a wrong version is answered before anything is queued.
      if (version !== '') pinned = entry.resolve(version).version;
    } catch (err) {
      answerError(c, id, err, format, NO_MODEL, start);
      return;
    }
    void score(c, id, entry, pinned, f, format, start);
  }

  parts.app.ws<Conn>('/v1/stream', {
    compression: uWS.DISABLED,
    maxPayloadLength: config.ws.maxPayloadBytes,
    maxBackpressure: config.ws.maxBackpressureBytes,
    closeOnBackpressureLimit: 1, // a boolean to the binding; its typings say number
    idleTimeout: config.ws.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    upgrade(res, req, context) {
      // Everything from req is read before upgrade: req is gone afterwards.
      const key = req.getHeader('sec-websocket-key');
      const protocol = req.getHeader('sec-websocket-protocol');
      const extensions = req.getHeader('sec-websocket-extensions');
      const conn: Conn = {
        model: req.getQuery('model') ?? '',
        version: req.getQuery('version') ?? '',
        ws: undefined,
        closed: false,
        signal: { aborted: false },
        inFlight: 0,
        outbox: [],
        outboxBinary: [],
        head: 0,
        flushQueued: false,
        flush: noop,
        sendSome: noop,
      };
      if (closingAll) {
        res.writeStatus('503 Service Unavailable').writeHeader('retry-after', parts.ctx.retryAfter).end();
        return;
      }
      res.upgrade(conn, key, protocol, extensions, context);
    },
    open(ws) {
      // uWS keeps its own copy of the upgrade's user data: bind to that one.
      const c = ws.getUserData();
      c.ws = ws;
      c.flush = () => flush(c);
      c.sendSome = () => sendSome(c);
      connections.add(ws);
      metrics.wsConnections(1);
    },
    message: onFrame,
    drain(ws) {
      const c = ws.getUserData();
      if (c.head < c.outbox.length) ws.cork(c.sendSome);
    },
    close(ws) {
      const c = ws.getUserData();
      c.closed = true;
      c.signal.aborted = true;
      c.ws = undefined;
      connections.delete(ws);
      metrics.wsConnections(-1);
    },
  });

  return {
    connections,
    inFlight() {
      let n = 0;
      for (const ws of connections) n += ws.getUserData().inFlight;
      return n;
    },
    pending() {
      let n = 0;
      for (const ws of connections) {
        const c = ws.getUserData();
        n += c.outbox.length - c.head;
      }
      return n;
    },
    stopAccepting() {
      closingAll = true;
    },
    endAll() {
      for (const ws of [...connections]) ws.end(1001, 'server shutting down');
    },
  };
}
