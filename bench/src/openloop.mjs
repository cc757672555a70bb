// An open-loop HTTP/1.1 load generator: requests leave on a fixed schedule (rate per second),
// whether or not earlier ones were answered, so a slow server cannot slow the load down and hide
// its queue (the "coordinated omission" of closed-loop generators such as wrk). Latency is taken
// from each request's scheduled send time, not from when it could be written.
//
// Requests are pre-encoded (whole HTTP messages), one in flight per keep-alive connection:
// uWebSockets.js closes a connection that pipelines a request while an earlier answer is still
// pending (it supports only answers given synchronously), and most clients do not pipeline anyway.
// As independent users would, a request due when every connection is busy opens a new one (up to
// `maxConnections`), so the requests waiting are in the server's sockets, where its load shedding
// can act, not in a queue of the generator's. Past `maxConnections` a request waits in the
// generator (its latency still counts from its scheduled time); past `maxQueued` waiting, requests
// are counted as `unsent` (the generator's own limit, reported, never hidden).
import { connect } from 'node:net';

const CRLF2 = Buffer.from('\r\n\r\n');

/** A growable array of doubles. */
class Samples {
  constructor() {
    this.data = new Float64Array(1024);
    this.length = 0;
  }
  push(x) {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = x;
  }
  /** Percentiles (p in [0, 100]) of what was pushed, in ms; null when empty. */
  percentiles(ps) {
    if (this.length === 0) return Object.fromEntries(ps.map((p) => [`p${p}`, null]));
    const s = this.data.slice(0, this.length).sort();
    return Object.fromEntries(ps.map((p) => [`p${p}`, s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]]));
  }
}

/** Reads the answers off one connection: status and body length from each header block. */
function answerReader(onAnswer) {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const end = buf.indexOf(CRLF2, at);
      if (end < 0) break;
      const head = buf.toString('latin1', at, end);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (end + 4 + length > buf.length) break;
      onAnswer(Number(head.slice(9, 12)), head);
      at = end + 4 + length;
    }
    buf = at === buf.length ? Buffer.alloc(0) : buf.subarray(at);
  };
}

/**
 * Sends `rate` requests a second for `seconds` to host:port over `connections` connections,
 * cycling through `requests` (Buffers, each one whole HTTP request), then waits up to `drainMs`
 * for the answers still due. Resolves with counts and latency percentiles (ms) by status.
 * `requests` may instead be a function of the request's number giving `{ bytes, tag }`: answers
 * are then also counted by tag and status (`tags`), connections lost under `error`.
 */
export async function openLoop({
  host = '127.0.0.1',
  port,
  requests,
  rate,
  seconds,
  connections = 64,
  maxConnections = 8192,
  maxQueued = 100_000,
  drainMs = 15_000,
  tickMs = 1,
}) {
  const byStatus = new Map();
  const retryAfter = new Set();
  let answered = 0;
  let errors = 0;
  let next = 0;
  let inFlight = 0;
  // Requests due and not yet written: scheduled times in a ring buffer.
  const queue = new Float64Array(maxQueued);
  let qHead = 0;
  let qLength = 0;
  const idle = [];
  const sockets = [];
  let connecting = 0;
  let opened = 0;
  const latency = (status) => {
    let e = byStatus.get(status);
    if (!e) {
      e = new Samples();
      byStatus.set(status, e);
    }
    return e;
  };
  const tagged = typeof requests === 'function';
  const tags = {};
  const countTag = (tag, status) => {
    tags[tag] ??= {};
    tags[tag][status] = (tags[tag][status] ?? 0) + 1;
  };
  const send = (c) => {
    c.due = queue[qHead];
    qHead = (qHead + 1) % maxQueued;
    qLength--;
    inFlight++;
    if (tagged) {
      const r = requests(next++);
      c.tag = r.tag;
      c.socket.write(r.bytes);
    } else c.socket.write(requests[next++ % requests.length]);
  };
  /** Hands waiting requests to idle connections; opens more while some still wait. */
  const dispatch = () => {
    while (qLength > 0 && idle.length > 0) {
      const c = idle.pop();
      if (c.due !== -2) send(c);
    }
    while (qLength > connecting && sockets.length < maxConnections) open();
  };
  const open = () => {
    const socket = connect({ host, port, noDelay: true });
    const c = { socket, due: -1, up: false, tag: undefined };
    sockets.push(socket);
    connecting++;
    opened++;
    socket.once('connect', () => {
      connecting--;
      c.up = true;
      if (qLength > 0) send(c);
      else idle.push(c);
    });
    socket.on(
      'data',
      answerReader((status, head) => {
        answered++;
        inFlight--;
        latency(status).push(performance.now() - c.due);
        if (tagged) countTag(c.tag, status);
        c.due = -1;
        if (status === 429 || status === 503) {
          const ra = /\r\nretry-after: *([^\r]*)/i.exec(head);
          retryAfter.add(ra ? ra[1] : '(none)');
        }
        if (qLength > 0) send(c);
        else idle.push(c);
      }),
    );
    const lost = () => {
      if (c.due === -2) return;
      if (c.due >= 0) {
        errors++;
        inFlight--;
        if (tagged) countTag(c.tag, 'error');
      } else if (!c.up) {
        // Refused or reset before it was up: counted as broken too.
        errors++;
        connecting--;
      }
      c.due = -2;
    };
    socket.on('error', lost);
    socket.on('close', lost);
  };
  for (let i = 0; i < connections; i++) open();
  while (connecting > 0) await new Promise((r) => setTimeout(r, 5));

  let scheduled = 0;
  let unsent = 0;
  const t0 = performance.now();
  const total = Math.floor(rate * seconds);
  await new Promise((resolve) => {
    const tick = () => {
      // Request i is due at t0 + i / rate: request 0 at once.
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
      for (; scheduled < due; scheduled++) {
        if (qLength === maxQueued) {
          unsent++;
          continue;
        }
        // Its scheduled time, not now: a late tick does not shorten the latency measured.
        queue[(qHead + qLength) % maxQueued] = t0 + (scheduled * 1000) / rate;
        qLength++;
      }
      dispatch();
      if (scheduled >= total) resolve();
      else setTimeout(tick, tickMs);
    };
    tick();
  });
  const sendSeconds = (performance.now() - t0) / 1000;
  const drainEnd = performance.now() + drainMs;
  while ((qLength > 0 || inFlight > 0) && performance.now() < drainEnd) {
    dispatch();
    await new Promise((r) => setTimeout(r, 10));
  }
  const timedOut = qLength + inFlight;
  for (const s of sockets) {
    s.removeAllListeners('close');
    s.destroy();
  }
  const statuses = {};
  for (const [status, s] of [...byStatus].sort((a, b) => a[0] - b[0]))
    statuses[status] = { count: s.length, latency_ms: s.percentiles([50, 90, 99, 99.9]) };
  return {
    offered_per_second: rate,
    seconds,
    send_seconds: sendSeconds,
    scheduled: total,
    sent: total - unsent - qLength,
    unsent,
    answered,
    answered_per_second: answered / sendSeconds,
    connection_errors: errors,
    connections_opened: opened,
    timed_out: timedOut,
    statuses,
    ...(tagged ? { tags } : {}),
    retry_after: [...retryAfter],
  };
}

/**
 * Closed loop, to measure capacity: each of `connections` connections sends its next request as
 * soon as the last one is answered, for `seconds`. Resolves with answers per second by status.
 */
export async function closedLoop({ host = '127.0.0.1', port, requests, seconds, connections = 64 }) {
  const counts = {};
  let next = 0;
  let stopping = false;
  const t0 = performance.now();
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise((resolve, reject) => {
          const socket = connect({ host, port, noDelay: true }, () => socket.write(requests[next++ % requests.length]));
          socket.on('error', reject);
          socket.on(
            'data',
            answerReader((status) => {
              counts[status] = (counts[status] ?? 0) + 1;
              if (stopping || performance.now() - t0 > seconds * 1000) {
                stopping = true;
                socket.destroy();
                resolve();
              } else socket.write(requests[next++ % requests.length]);
            }),
          );
        }),
    ),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { seconds: elapsed, per_second: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / elapsed])) };
}

/** One whole HTTP/1.1 POST as a Buffer; JSON unless `headers` names another content-type. */
export function httpRequest(path, body, headers = {}) {
  const all = { 'content-type': 'application/json', ...headers };
  const extra = Object.entries(all)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([
    Buffer.from(`POST ${path} HTTP/1.1\r\nhost: bench\r\ncontent-length: ${b.length}\r\n${extra}\r\n`),
    b,
  ]);
}

/** One whole HTTP/1.1 GET as a Buffer. */
export function httpGet(path) {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nhost: bench\r\n\r\n`);
}
