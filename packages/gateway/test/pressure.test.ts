// Load shedding before the body is parsed: the verdict's thresholds, and end to end over real
// HTTP, an event loop kept late refuses scoring requests with QUEUE_FULL and Retry-After (the body
// let by unread, the connection still usable), counts them, and serves again once it catches up.
import { connect, type Socket } from 'node:net';
import { ScorerError } from '@ortline/scorer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoopLag, type Shedder, shedVerdict } from '../src/http/pressure.js';
import { parity, startInProcess } from './helpers.js';

const shedder = (over: Partial<Shedder> = {}): Shedder => ({
  lag: undefined,
  maxEventLoopDelayMs: 100,
  count: () => {},
  ...over,
});

/** A model version's queue that answers what it was given, and records the rows it was asked about. */
function gate(refusal?: ScorerError) {
  const asked: number[] = [];
  return {
    asked,
    queueRefusal(rows: number) {
      asked.push(rows);
      return refusal;
    },
  };
}

describe('shedVerdict', () => {
  it('passes a request while the loop is within its limit and the queue takes one more row', () => {
    const lag = new LoopLag();
    lag.lagMs = 100;
    const open = gate();
    expect(shedVerdict(shedder({ lag }), open)).toBeUndefined();
    // The body is unread: the queue is asked about the least request, one row.
    expect(open.asked).toEqual([1]);
  });

  it('refuses for the event loop past maxEventLoopDelayMs, naming the delay, before asking the queue', () => {
    const lag = new LoopLag();
    lag.lagMs = 100.6;
    const open = gate();
    expect(shedVerdict(shedder({ lag }), open)).toMatchObject({
      reason: 'event_loop',
      details: { reason: 'event_loop', eventLoopDelayMs: 101, maxEventLoopDelayMs: 100 },
    });
    expect(open.asked).toEqual([]);
  });

  it("passes on the batcher's own queue refusal, its reason counted", () => {
    for (const reason of ['queue_time', 'queue_rows'] as const) {
      const refusal = new ScorerError('QUEUE_FULL', `queue full (${reason})`, { reason, maxQueueRows: 5 });
      expect(shedVerdict(shedder(), gate(refusal))).toEqual({
        reason,
        message: `queue full (${reason})`,
        details: { reason, maxQueueRows: 5 },
      });
    }
  });
});

describe('LoopLag', () => {
  it('reads late only after two late samples in a row: one long turn is not overload', async () => {
    const lag = new LoopLag();
    lag.start();
    try {
      const busy = (ms: number) => {
        const end = performance.now() + ms;
        while (performance.now() < end);
      };
      const tick = () => new Promise((r) => setTimeout(r, 15));
      await tick();
      busy(120);
      await tick();
      expect(lag.lagMs).toBeLessThan(100);
      // Every turn long, as past capacity.
      const stall = setInterval(() => busy(120), 1);
      try {
        await new Promise((r) => setTimeout(r, 400));
        expect(lag.lagMs).toBeGreaterThan(100);
      } finally {
        clearInterval(stall);
      }
      await tick();
      await tick();
      expect(lag.lagMs).toBeLessThan(100);
    } finally {
      lag.stop();
    }
  });
});

const row = parity().rows[0]!;
const body = JSON.stringify({ customer_id: row.customerID, ...row.features });
const post = `POST /v1/models/churn/predict HTTP/1.1\r\nhost: t\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** One request on a kept-alive raw socket: resolves with the answer's status, headers and body. */
function ask(socket: Socket): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: *(\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      socket.off('data', onData);
      resolve({
        status: Number(buf.slice(9, 12)),
        head: buf.slice(0, end),
        body: buf.slice(end + 4, end + 4 + length),
      });
    };
    socket.on('data', onData);
    socket.write(post);
  });
}

describe('event-loop shedding over HTTP', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ url, close } = await startInProcess({ maxEventLoopDelayMs: 50 }));
  });
  afterAll(() => close?.());

  async function shed(reason: string): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(new RegExp(`^ortline_requests_shed_total\\{reason="${reason}"\\} (\\S+)$`, 'm').exec(text)?.[1]);
  }

  it('refuses with 503 QUEUE_FULL and Retry-After while the loop runs late, then serves on the same connection', async () => {
    const before = await shed('event_loop');
    const { port } = new URL(url);
    const socket = await new Promise<Socket>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: Number(port) }, () => resolve(s));
    });
    try {
      expect((await ask(socket)).status).toBe(200);
      // Every turn of the loop takes 80 ms, as it does past capacity.
      const stall = setInterval(() => {
        const end = performance.now() + 80;
        while (performance.now() < end);
      }, 1);
      let refused: Awaited<ReturnType<typeof ask>>;
      try {
        await new Promise((r) => setTimeout(r, 300));
        refused = await ask(socket);
      } finally {
        clearInterval(stall);
      }
      expect(refused.status).toBe(503);
      expect(refused.head).toMatch(/\r\nretry-after: 1(\r|$)/i);
      const error = JSON.parse(refused.body).error;
      expect(error.code).toBe('QUEUE_FULL');
      expect(error.details.reason).toBe('event_loop');
      expect(error.details.eventLoopDelayMs).toBeGreaterThan(50);
      expect((await shed('event_loop')) - before).toBe(1);
      await new Promise((r) => setTimeout(r, 100));
      const again = await ask(socket);
      expect(again.status).toBe(200);
      expect(Math.abs(JSON.parse(again.body).churn_probability - row.probability)).toBeLessThanOrEqual(
        parity().tolerance,
      );
    } finally {
      socket.destroy();
    }
  });
});
