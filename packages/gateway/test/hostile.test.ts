// Slow and hostile clients against a real gateway on loopback: bodies trickled past
// bodyTimeoutMs get 408 and hold no memory, slow headers and oversized or too many headers are
// shed by uWebSockets.js (pinned: it gives no answer), as is a scoring request pipelined behind
// one still pending (pinned: the connection is closed), an oversized WebSocket frame closes its
// connection, a WebSocket client that never reads is cut off, and 10,000 idle connections cost
// bounded memory (a child gateway; the client in another process, each well under the file
// limit) while others are served.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parity, postJson, startChild, startInProcess } from './helpers.js';

const rows = parity().rows;
const record = (i = 0) => ({ customer_id: rows[i]!.customerID, ...rows[i]!.features });

let url: string;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ url, close } = await startInProcess({ bodyTimeoutMs: 1000, ws: { maxPayloadBytes: 64 * 1024 } }));
});
afterAll(() => close?.());

/** A raw connection that keeps what it receives and says when the server closed it. */
function rawSocket(): Promise<{ s: Socket; got: () => string; closed: Promise<number> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let got = '';
    const s = connect(Number(port), hostname);
    const closed = new Promise<number>((r) => s.on('close', () => r(performance.now() - started)));
    s.on('data', (d) => {
      got += d;
    });
    s.on('error', () => {});
    s.once('connect', () => resolve({ s, got: () => got, closed }));
    s.once('error', reject);
  });
}

describe('slow bodies', () => {
  it('a body trickled past bodyTimeoutMs gets 408 REQUEST_TIMEOUT and its connection closed', async () => {
    const c = await rawSocket();
    c.s.write(
      'POST /v1/models/churn/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{',
    );
    const drip = setInterval(() => c.s.write(' '), 100);
    const ms = await c.closed;
    clearInterval(drip);
    expect(c.got()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(c.got()).toMatch(/"code":"REQUEST_TIMEOUT"/);
    expect(ms).toBeGreaterThan(900);
    expect(ms).toBeLessThan(5000);
  });

  it('twenty clients announcing 16 MB each and sending a little hold what they sent, not what they announced', async () => {
    const before = process.memoryUsage().arrayBuffers;
    const clients = await Promise.all(Array.from({ length: 20 }, () => rawSocket()));
    for (const c of clients) {
      c.s.write(
        'POST /v1/models/churn/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 16000000\r\n\r\n',
      );
      c.s.write(Buffer.alloc(64 * 1024, 0x20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const held = process.memoryUsage().arrayBuffers - before;
    // 20 x 64 KiB received; 20 x 16 MB announced would be 320 MB.
    expect(held).toBeLessThan(32 * 1024 * 1024);
    await Promise.all(clients.map((c) => c.closed));
    for (const c of clients) expect(c.got()).toMatch(/^HTTP\/1\.1 408 /);
    expect((await postJson(`${url}/v1/models/churn/predict`, record(0))).status).toBe(200);
  });
});

// uWebSockets.js 20.30 (the newest build for this machine's glibc) decides these before the
// gateway sees a request, and answers none of them. Pinned, so that an upgrade that changes it
// shows up here; the gateway keeps serving everyone else meanwhile.
describe('slow and oversized headers (uWebSockets.js, pinned)', () => {
  it('slow headers, more than 50 headers, or a 1 MB header: no answer, the connection closed, others served', async () => {
    const slow = await rawSocket();
    const request = `GET /healthz HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(100)}\r\n`;
    let i = 0;
    const drip = setInterval(() => {
      if (i < request.length) slow.s.write(request[i++]!);
    }, 200);
    const many = await rawSocket();
    many.s.write(
      `GET /healthz HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 60 }, (_, k) => `X-H${k}: v\r\n`).join('')}\r\n`,
    );
    const huge = await rawSocket();
    huge.s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(1_000_000)}\r\n\r\n`);
    // Meanwhile, ordinary requests are answered.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const [slowMs, manyMs] = await Promise.all([slow.closed, many.closed, huge.closed]);
    clearInterval(drip);
    expect([slow.got(), many.got()]).toEqual(['', '']);
    // Held to uWebSockets.js's 10 s request timeout, not longer.
    expect(slowMs).toBeLessThan(15_000);
    expect(manyMs).toBeLessThan(15_000);
    // A 1 MB header block: closed at once when it arrives in pieces (uWebSockets.js buffers about
    // 64 KB of them), read when it arrives whole; either way never a hang or a crash.
    expect(huge.got()).toMatch(/^$|^HTTP\/1\.1 200 /);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 30_000);
});

describe('HTTP pipelining (uWebSockets.js, pinned)', () => {
  it('a request sent before the answer to the one ahead of it closes the connection, both unanswered; GETs answered at once pipeline', async () => {
    // Features never scored before: an L1 hit would be answered before the handler returns.
    const body = JSON.stringify({ ...record(0), TotalCharges: 98_765.5 });
    const post = `POST /v1/models/churn/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    // The prediction's answer comes after a native run, so the second request finds the first
    // still pending: uWebSockets.js 20.30 closes the connection rather than mix the answers up.
    const scoring = await rawSocket();
    scoring.s.write(post + post);
    await scoring.closed;
    expect(scoring.got()).toBe('');
    // Answers written before the handler returns (health) pipeline as HTTP/1.1 allows.
    const health = await rawSocket();
    health.s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(3));
    const until = performance.now() + 5000;
    while ((health.got().match(/HTTP\/1\.1 200/g) ?? []).length < 3 && performance.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    expect((health.got().match(/HTTP\/1\.1 200/g) ?? []).length).toBe(3);
    health.s.destroy();
  });
});

describe('WebSocket', () => {
  it('a frame over ws.maxPayloadBytes closes that connection; other connections carry on', async () => {
    const open = () =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/stream?model=churn`);
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    const [bad, good] = await Promise.all([open(), open()]);
    const code = new Promise<number>((r) => bad.once('close', (c) => r(c)));
    bad.on('error', () => {});
    bad.send(JSON.stringify({ id: 1, record: { ...record(0), pad: 'x'.repeat(100 * 1024) } }));
    // 1009 (message too big), or 1006 when the close frame is lost to the reset of a client
    // still sending the rest of its frame.
    expect([1006, 1009]).toContain(await code);
    const answer = new Promise<any>((r) => good.once('message', (d) => r(JSON.parse(d.toString()))));
    good.send(JSON.stringify({ id: 2, record: record(1) }));
    expect((await answer).prediction.churn_probability).toBeCloseTo(rows[1]!.probability, 4);
    good.close();
  });
});

describe('WebSocket clients that never read', () => {
  it('are cut off (1013) once ws.maxInFlight answers wait unread, not buffered without bound', async () => {
    const small = await startInProcess({ ws: { maxInFlight: 8 } });
    try {
      const ws = new WebSocket(`${small.url.replace('http', 'ws')}/v1/stream?model=churn`);
      await new Promise((r, j) => {
        ws.once('open', r);
        ws.once('error', j);
      });
      const socket = (ws as unknown as { _socket: Socket })._socket;
      socket.pause(); // never reads: the server's socket buffer fills, answers wait in its outbox
      const instances = rows.slice(0, 200).map((r) => r.features);
      const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
      let answered = 0;
      ws.on('message', () => {
        answered++;
      });
      const frames = 2000;
      for (let i = 0; i < frames; i++) {
        ws.send(JSON.stringify({ id: i, instances }));
        // Paced, so frames keep arriving while the first answers wait unread.
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 500));
      socket.resume();
      expect(await closed).toBe(1013);
      expect(answered).toBeLessThan(frames);
    } finally {
      await small.close();
    }
  }, 30_000);
});

/** Resident memory of a process, from /proc. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

// The client side: N connections from another process (each process stays under the file limit).
const IDLE_CLIENT = `
const { connect } = require('node:net');
const [port, n] = [Number(process.argv[1]), Number(process.argv[2])];
let open = 0, closed = 0, failed = 0;
const sockets = [];
function batch(from) {
  const to = Math.min(n, from + 500);
  let pending = to - from;
  for (let i = from; i < to; i++) {
    const s = connect(port, '127.0.0.1');
    sockets.push(s);
    s.on('connect', () => { open++; if (--pending === 0) next(to); });
    s.on('error', () => { failed++; if (--pending === 0) next(to); });
    s.on('close', () => { closed++; if (closed === n) console.log('all-closed'); });
  }
}
function next(at) { if (at < n) batch(at); else console.log('open ' + open + ' failed ' + failed); }
batch(0);
`;

describe('idle connections', () => {
  it('10,000 idle connections cost bounded memory, others are served meanwhile, and uWebSockets.js sheds them', async () => {
    const gw = await startChild(['--no-cache-l1-enabled']);
    try {
      await postJson(`${gw.url}/v1/models/churn/predict`, record(0));
      const before = rssBytes(gw.proc.pid!);
      const client = spawn(process.execPath, ['-e', IDLE_CLIENT, String(gw.port), '10000'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      const saw = (what: string) =>
        new Promise<void>((resolve) => {
          const check = () => (out.includes(what) ? resolve() : undefined);
          client.stdout!.on('data', (d) => {
            out += d;
            check();
          });
          check();
        });
      await saw('open ');
      expect(out).toMatch(/open 10000 failed 0/);
      const during = rssBytes(gw.proc.pid!);
      const r = await postJson(`${gw.url}/v1/models/churn/predict`, record(1));
      expect(r.status).toBe(200);
      console.info(`10,000 idle connections: gateway RSS +${((during - before) / 2 ** 20).toFixed(1)} MiB`);
      expect(during - before).toBeLessThan(64 * 1024 * 1024);
      await saw('all-closed');
      client.kill();
    } finally {
      gw.proc.kill('SIGTERM');
      await gw.exited;
    }
  }, 60_000);
});
