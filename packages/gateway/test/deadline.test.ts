// Deadlines and cancellation end to end, in process, over real HTTP and WebSocket: a request
// queued behind a long native run past its deadline gets 504 and its rows never run; a client
// that goes away while queued takes its rows out; bad timeouts are named; metrics count both.
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../src/index.js';
import { parity, postJson, startInProcess } from './helpers.js';

const rows = parity().rows;
const record = (i = 0) => ({ customer_id: rows[i % rows.length]!.customerID, ...rows[i % rows.length]!.features });
// 30,000 rows run alone (over batcher.maxBatchRows) for tens of milliseconds: what queues behind waits that long.
const bigBody = JSON.stringify({ instances: Array.from({ length: 30_000 }, (_, i) => record(i)) });

let url: string;
let gateway: Gateway;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ url, gateway, close } = await startInProcess({ maxInstances: 30_000 }));
});
afterAll(() => close?.());

/**
 * Sends the big request (with the L1 cache on, as by default, so the smaller requests behind it
 * go through the cache stage to the Batcher) and resolves once its native run is in flight (the gateway runs in this
 * process), with its answer's promise: a request sent now queues behind that run.
 */
async function sendBig(on = { url, gateway }): Promise<{ answered: Promise<number> }> {
  const scorer = on.gateway.registry.entry('churn')!.active.scorer;
  const big = await new Promise<{ answered: Promise<number> }>((sent) => {
    let answered!: (status: number) => void;
    const done = new Promise<number>((r) => {
      answered = r;
    });
    const req = request(
      `${on.url}/v1/models/churn/predict`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(bigBody),
          // Stored, its rows would answer the next big request from the L1 cache, with no run.
          'cache-control': 'no-store',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => answered(res.statusCode!));
      },
    );
    req.end(bigBody, () => sent({ answered: done }));
  });
  const until = performance.now() + 10_000;
  while (scorer.inFlight === 0 && performance.now() < until) await new Promise((r) => setImmediate(r));
  expect(scorer.inFlight).toBe(1);
  return big;
}

async function dropped(reason: 'deadline' | 'cancelled'): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('ortline_rows_dropped_total{') && l.includes(`reason="${reason}"`) && l.includes('version="1"'),
    );
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('deadlines', () => {
  it('a request whose deadline passes while it is queued gets 504 DEADLINE_EXCEEDED and its rows never run', async () => {
    const before = await dropped('deadline');
    const big = await sendBig();
    const r = await postJson(
      `${url}/v1/models/churn/predict`,
      { instances: [record(1), record(2)] },
      {
        'x-request-timeout-ms': '1',
      },
    );
    expect(r.status).toBe(504);
    expect(r.json.error.code).toBe('DEADLINE_EXCEEDED');
    expect(await big.answered).toBe(200);
    expect((await dropped('deadline')) - before).toBe(2);
  });

  it('a deadline long enough is met, and an answer comes as usual', async () => {
    const r = await postJson(`${url}/v1/models/churn/predict`, record(3), { 'x-request-timeout-ms': '5000' });
    expect(r.status).toBe(200);
    expect(Math.abs(r.json.churn_probability - rows[3]!.probability)).toBeLessThanOrEqual(parity().tolerance);
  });

  it.each(['0', '-1', '1.5', 'soon', '3600001', '1e3'])(
    'x-request-timeout-ms "%s" is 400 naming the header',
    async (v) => {
      const r = await postJson(`${url}/v1/models/churn/predict`, record(0), { 'x-request-timeout-ms': v });
      expect(r.status).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'x-request-timeout-ms' } });
    },
  );

  it('OIP: parameters.timeout in microseconds; a bad one is 400 naming it', async () => {
    const meta = (await (await fetch(`${url}/v2/models/churn`)).json()) as {
      inputs: { name: string; datatype: string }[];
    };
    const f = rows[0]!.features as Record<string, unknown>;
    const inputs = meta.inputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: [1, 1],
      data: [f[t.name] ?? 0],
    }));
    const ok = await postJson(`${url}/v2/models/churn/infer`, { inputs, parameters: { timeout: 5_000_000 } });
    expect(ok.status).toBe(200);
    for (const timeout of [-1, 1.5, 'x', 3_600_000_001]) {
      const bad = await postJson(`${url}/v2/models/churn/infer`, { inputs, parameters: { timeout } });
      expect(bad.status).toBe(400);
      expect(bad.json.error.details.field).toBe('parameters.timeout');
    }
    const big = await sendBig();
    const late = await postJson(`${url}/v2/models/churn/infer`, { inputs, parameters: { timeout: 1 } });
    expect(late.status).toBe(504);
    await big.answered;
  });

  it('WebSocket: a frame may carry timeout_ms; a bad one is answered INVALID_REQUEST', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/stream?model=churn`);
    await new Promise((r, j) => {
      ws.once('open', r);
      ws.once('error', j);
    });
    const answers = new Map<unknown, any>();
    const got = (n: number) =>
      new Promise<void>((resolve) => {
        const on = (data: Buffer) => {
          const a = JSON.parse(data.toString());
          answers.set(a.id, a);
          if (answers.size >= n) {
            ws.off('message', on);
            resolve();
          }
        };
        ws.on('message', on);
      });
    const two = got(2);
    ws.send(JSON.stringify({ id: 'ok', record: record(4), timeout_ms: 5000 }));
    ws.send(JSON.stringify({ id: 'bad', record: record(4), timeout_ms: '5000' }));
    await two;
    expect(answers.get('ok').prediction.churn_probability).toBeCloseTo(rows[4]!.probability, 4);
    expect(answers.get('bad').error).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'timeout_ms' } });
    ws.close();
  });
});

describe('cancellation', () => {
  it('a client that goes away while its request is queued takes its rows out of the queue', async () => {
    const before = await dropped('cancelled');
    const big = await sendBig();
    const body = JSON.stringify({ instances: [record(5), record(6), record(7)] });
    const u = new URL(url);
    await new Promise<void>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.write(
          `POST /v1/models/churn/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
          () => setTimeout(() => s.destroy(), 2),
        );
      });
      s.on('close', () => resolve());
    });
    expect(await big.answered).toBe(200);
    // The server answers the next request; the three rows were counted as cancelled, not run.
    expect((await postJson(`${url}/v1/models/churn/predict`, record(8))).status).toBe(200);
    expect((await dropped('cancelled')) - before).toBe(3);
  });
});

describe('admission by queue time', () => {
  let small: { url: string; gateway: Gateway; close: () => Promise<void> };
  beforeAll(async () => {
    small = await startInProcess({ maxInstances: 30_000, batcher: { maxQueueMs: 2 }, overloadStatus: '429' });
  });
  afterAll(() => small?.close());

  it('a request that would wait past batcher.maxQueueMs is refused at once: QUEUE_FULL with Retry-After, nothing queued', async () => {
    const scorer = small.gateway.registry.entry('churn')!.active.scorer;
    const shed = async () => {
      const text = await (await fetch(`${small.url}/metrics`)).text();
      return Number(/^ortline_requests_shed_total\{reason="queue_time"\} (\S+)$/m.exec(text)?.[1] ?? 0);
    };
    const shedBefore = await shed();
    const big = await sendBig(small);
    const r = await postJson(`${small.url}/v1/models/churn/predict`, record(9));
    expect(r.status).toBe(429);
    expect(r.json.error).toMatchObject({ code: 'QUEUE_FULL', details: { reason: 'queue_time', maxQueueMs: 2 } });
    expect(r.headers.get('retry-after')).toBe('1');
    // Refused before its body was parsed: the batcher was asked first, and the refusal counted.
    expect((await shed()) - shedBefore).toBe(1);
    // Refused while the big run was still going, and nothing of it waits.
    expect(scorer.inFlight).toBe(1);
    expect(scorer.queueRows).toBe(0);
    expect(await big.answered).toBe(200);
    expect((await postJson(`${small.url}/v1/models/churn/predict`, record(9))).status).toBe(200);
  });
});
