// WebSocket /v1/stream: many frames in flight on one connection, answers matched by id, JSON
// text frames and MessagePack binary frames, errors per frame, backpressure from a client that
// stops reading.
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parity, startInProcess } from './helpers.js';

let url: string;
let wsUrl: string;
let close: () => Promise<void>;
const { rows, tolerance } = parity();

beforeAll(async () => {
  ({ url, close } = await startInProcess({ ws: { maxInFlight: 5000, sendCapBytes: 4096 } }));
  wsUrl = url.replace('http', 'ws');
});
afterAll(() => close?.());

function open(path = '/v1/stream'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${wsUrl}${path}`);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends every frame at once, then collects answers until one per frame arrived. */
function pipeline(ws: WebSocket, frames: (string | Buffer)[], binary: boolean): Promise<any[]> {
  return new Promise((resolve) => {
    const answers: any[] = [];
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      answers.push(isBinary ? unpack(data) : JSON.parse(data.toString()));
      if (answers.length === frames.length) resolve(answers);
    });
    for (const f of frames) ws.send(f, { binary });
  });
}

describe('WebSocket /v1/stream', () => {
  it('pipelines thousands of frames on one connection; every answer carries its id', async () => {
    const ws = await open();
    const n = 3000;
    const frames = Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        id: `f${i}`,
        record: { customerID: rows[i % rows.length]!.customerID, ...rows[i % rows.length]!.features },
      }),
    );
    const answers = await pipeline(ws, frames, false);
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.size).toBe(n);
    for (let i = 0; i < n; i++) {
      const a = byId.get(`f${i}`)!;
      const row = rows[i % rows.length]!;
      expect(a.prediction.customer_id).toBe(row.customerID);
      expect(Math.abs(a.prediction.churn_probability - row.probability)).toBeLessThanOrEqual(tolerance);
    }
    ws.close();
  });

  it('instances in a frame, and numeric ids, come back as predictions', async () => {
    const ws = await open();
    const [a] = await pipeline(
      ws,
      [JSON.stringify({ id: 7, instances: rows.slice(0, 10).map((r) => r.features) })],
      false,
    );
    expect(a.id).toBe(7);
    expect(a.predictions).toHaveLength(10);
    for (const [i, p] of a.predictions.entries())
      expect(Math.abs(p.churn_probability - rows[i]!.probability)).toBeLessThanOrEqual(tolerance);
    ws.close();
  });

  it('MessagePack binary frames get MessagePack binary answers', async () => {
    const ws = await open('/v1/stream?model=churn&version=2');
    const frames = rows.slice(0, 50).map((r, i) => pack({ id: i, record: r.features }));
    const answers = await pipeline(ws, frames, true);
    expect(answers.map((a) => a.id).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    for (const a of answers) {
      expect(a.prediction.model_version).toBe('2');
      expect(Math.abs(a.prediction.churn_probability - rows[a.id]!.probability)).toBeLessThanOrEqual(tolerance);
    }
    ws.close();
  });

  it('a bad frame gets an error answer with its id; the connection carries on', async () => {
    const ws = await open();
    const answers = await pipeline(
      ws,
      [
        JSON.stringify({ id: 'bad', record: { ...rows[0]!.features, tenure: 'long' } }),
        '{not json',
        JSON.stringify({ id: 'nomodel', model: 'nope', record: rows[0]!.features }),
        JSON.stringify({ id: 'empty' }),
        JSON.stringify({ id: 'ok', record: rows[0]!.features }),
      ],
      false,
    );
    const byId = new Map(answers.map((a) => [a.id, a]));
    expect(byId.get('bad').error.code).toBe('INVALID_FEATURES');
    expect(byId.get('bad').status).toBe(422);
    expect(byId.get('bad').error.details.issues[0].field).toBe('tenure');
    expect(byId.get(null).error.code).toBe('MALFORMED_BODY');
    expect(byId.get('nomodel').error.code).toBe('MODEL_NOT_FOUND');
    expect(byId.get('empty').error.code).toBe('INVALID_REQUEST');
    expect(byId.get('ok').prediction.churn_probability).toBeGreaterThanOrEqual(0);
    ws.close();
  });

  it('backpressure: a client that stops reading does not make the server buffer without bound, and gets everything once it reads', async () => {
    const ws = await open();
    const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause(); // stop reading: the server's socket buffer fills
    // ~1,000 answers of 50 predictions each: far more than the socket buffers hold.
    const n = 1000;
    const got = new Set<string>();
    const done = new Promise<void>((resolve) =>
      ws.on('message', (d: Buffer) => {
        const a = JSON.parse(d.toString());
        expect(a.predictions).toHaveLength(50);
        got.add(a.id);
        if (got.size === n) resolve();
      }),
    );
    const instances = rows.slice(0, 50).map((r) => r.features);
    for (let i = 0; i < n; i++) ws.send(JSON.stringify({ id: `b${i}`, instances }));
    let pending = 0;
    for (let t = 0; t < 50 && pending === 0; t++) {
      await new Promise((r) => setTimeout(r, 100));
      const metrics = await (await fetch(`${url}/metrics`)).text();
      pending = Number(/ortline_ws_pending_answers (\d+)/.exec(metrics)![1]);
    }
    // The answers wait in the server's outbox, past the socket's cap, until the client reads.
    expect(pending).toBeGreaterThan(0);
    socket.resume();
    await done;
    expect(got.size).toBe(n);
    ws.close();
  });

  it('too many frames in flight on one connection: STREAM_OVERLOADED answers, not unbounded queues', async () => {
    const small = await startInProcess({ ws: { maxInFlight: 10 } });
    try {
      const ws = await new Promise<WebSocket>((resolve, reject) => {
        const w = new WebSocket(`${small.url.replace('http', 'ws')}/v1/stream`);
        w.once('open', () => resolve(w));
        w.once('error', reject);
      });
      const frames = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: i, record: rows[0]!.features }));
      const answers = await pipeline(ws, frames, false);
      const overloaded = answers.filter((a) => a.error?.code === 'STREAM_OVERLOADED');
      const ok = answers.filter((a) => a.prediction);
      expect(ok.length).toBeGreaterThanOrEqual(10);
      expect(overloaded.length).toBeGreaterThan(0);
      expect(ok.length + overloaded.length).toBe(200);
      ws.close();
    } finally {
      await small.close();
    }
  });
});
