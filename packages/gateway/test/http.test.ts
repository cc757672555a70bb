// The gateway end to end over HTTP, in process, on port 0: v1 predictions (JSON and
// MessagePack), the parity rows, every error status, health, metrics, docs, client aborts.
import { request } from 'node:http';
import { connect } from 'node:net';
import { pack, unpack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_TABLE, uwsBinding } from '../src/index.js';
import { card, parity, postJson, startInProcess } from './helpers.js';

let url: string;
let close: () => Promise<void>;
const rows = parity().rows;
const tolerance = parity().tolerance;
const record = (i = 0) => ({ customer_id: rows[i]!.customerID, ...rows[i]!.features });

beforeAll(async () => {
  ({ url, close } = await startInProcess({ maxBodyBytes: 256 * 1024, maxInstances: 500 }));
});
afterAll(() => close?.());

function expectError(r: { status: number; json: any }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.json).toEqual({ error: { code, message: expect.any(String), details: expect.any(Object) } });
}

describe('uWebSockets.js', () => {
  it('runs on the native binding, not the JS fallback', () => {
    const b = uwsBinding();
    expect(b.native).toBe(true);
    expect(b.path).toMatch(/uws_linux_x64_\d+\.node$/);
  });
});

describe('POST /v1/models/{name}/predict', () => {
  it('scores one record: the answer shape, risk category from the card, unique prediction ids', async () => {
    const a = await postJson(`${url}/v1/models/churn/predict`, record(0));
    const b = await postJson(`${url}/v1/models/churn/predict`, record(0));
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('application/json');
    expect(Object.keys(a.json)).toEqual([
      'customer_id',
      'churn_probability',
      'risk_category',
      'model_version',
      'prediction_id',
    ]);
    expect(a.json.customer_id).toBe(rows[0]!.customerID);
    expect(Math.abs(a.json.churn_probability - rows[0]!.probability)).toBeLessThanOrEqual(tolerance);
    const bands = card().risk_thresholds;
    expect(a.json.risk_category).toBe(bands.find((t) => a.json.churn_probability <= t.max)!.category);
    expect(a.json.model_version).toBe('1');
    expect(typeof a.json.prediction_id).toBe('string');
    expect(a.json.prediction_id).not.toBe(b.json.prediction_id);
  });

  it('reproduces every parity row of the model repository over HTTP, one request each, concurrently', async () => {
    const answers = await Promise.all(
      rows.map((r) => postJson(`${url}/v1/models/churn/predict`, { customerID: r.customerID, ...r.features })),
    );
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      expect(a.json.customer_id).toBe(rows[i]!.customerID);
      expect(Math.abs(a.json.churn_probability - rows[i]!.probability)).toBeLessThanOrEqual(tolerance);
    }
  });

  it('scores instances in order, within tolerance, in one request', async () => {
    const r = await postJson(`${url}/v1/models/churn/predict`, {
      instances: rows.slice(0, 300).map((x) => ({ customer_id: x.customerID, ...x.features })),
    });
    expect(r.status).toBe(200);
    expect(r.json.predictions).toHaveLength(300);
    for (const [i, p] of r.json.predictions.entries()) {
      expect(p.customer_id).toBe(rows[i]!.customerID);
      expect(Math.abs(p.churn_probability - rows[i]!.probability)).toBeLessThanOrEqual(tolerance);
    }
    expect(new Set(r.json.predictions.map((p: { prediction_id: string }) => p.prediction_id)).size).toBe(300);
  });

  it('answers an empty instances list with no predictions', async () => {
    const r = await postJson(`${url}/v1/models/churn/predict`, { instances: [] });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ predictions: [] });
  });

  it('serves the alias /v1/predict/{name} and explicit versions', async () => {
    const a = await postJson(`${url}/v1/predict/churn`, record(1));
    expect(a.status).toBe(200);
    expect(Math.abs(a.json.churn_probability - rows[1]!.probability)).toBeLessThanOrEqual(tolerance);
    const v2 = await postJson(`${url}/v1/models/churn/versions/2/predict`, record(1));
    expect(v2.status).toBe(200);
    expect(v2.json.model_version).toBe('2');
  });

  it('echoes a missing id as null', async () => {
    const r = await postJson(`${url}/v1/models/churn/predict`, rows[2]!.features);
    expect(r.status).toBe(200);
    expect(r.json.customer_id).toBeNull();
  });
});

describe('MessagePack', () => {
  const post = async (body: Buffer, headers: Record<string, string>) => {
    const r = await fetch(`${url}/v1/models/churn/predict`, { method: 'POST', headers, body });
    return { status: r.status, type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
  };

  it('msgpack in, msgpack out (the answer follows the request format)', async () => {
    const r = await post(pack(record(3)), { 'content-type': 'application/msgpack' });
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/msgpack');
    const a = unpack(r.bytes);
    expect(a.customer_id).toBe(rows[3]!.customerID);
    expect(Math.abs(a.churn_probability - rows[3]!.probability)).toBeLessThanOrEqual(tolerance);
  });

  it('JSON in, msgpack out by Accept; msgpack in, JSON out by Accept', async () => {
    const a = await post(Buffer.from(JSON.stringify({ instances: [record(4), record(5)] })), {
      'content-type': 'application/json',
      accept: 'application/msgpack',
    });
    expect(a.type).toBe('application/msgpack');
    expect(unpack(a.bytes).predictions).toHaveLength(2);
    const b = await post(pack(record(4)), { 'content-type': 'application/x-msgpack', accept: 'application/json' });
    expect(b.type).toBe('application/json');
    expect(JSON.parse(b.bytes.toString()).customer_id).toBe(rows[4]!.customerID);
  });

  it('errors come in msgpack too', async () => {
    const r = await post(pack({ ...record(0), tenure: -1 }), { 'content-type': 'application/msgpack' });
    expect(r.status).toBe(422);
    expect(unpack(r.bytes).error.code).toBe('INVALID_FEATURES');
  });

  it('64-bit integers are numbers, as in JSON (encoders use them past 32 bits)', async () => {
    // tenure as a MessagePack uint64 (0xcf): 2^33 + 1, over the feature's range like in JSON.
    const uint64 = Buffer.from([0xcf, 0, 0, 0, 2, 0, 0, 0, 1]);
    const body = pack({ ...record(0), tenure: 0 });
    const at = body.indexOf(Buffer.concat([pack('tenure'), pack(0)]));
    const withBig = Buffer.concat([body.subarray(0, at), pack('tenure'), uint64, body.subarray(at + 8)]);
    const r = await post(withBig, { 'content-type': 'application/msgpack', accept: 'application/json' });
    const json = JSON.parse(r.bytes.toString());
    const viaJson = await postJson(`${url}/v1/models/churn/predict`, { ...record(0), tenure: 2 ** 33 + 1 });
    expect(r.status).toBe(viaJson.status);
    expect(json.error?.details?.issues?.[0]?.code ?? json.churn_probability).toEqual(
      viaJson.json.error?.details?.issues?.[0]?.code ?? viaJson.json.churn_probability,
    );
    expect(JSON.stringify(json)).not.toMatch(/bigint/);
  });

  it('malformed msgpack is 400', async () => {
    const r = await post(Buffer.from([0x82, 0xa1]), { 'content-type': 'application/msgpack' });
    expect(r.status).toBe(400);
  });
});

describe('errors: one table, one body shape', () => {
  it('400 MALFORMED_BODY for JSON that does not parse', async () => {
    expectError(await postJson(`${url}/v1/models/churn/predict`, '{"tenure": '), 400, 'MALFORMED_BODY');
  });

  it('400 INVALID_REQUEST for a body that is not a record, or instances that are not an array', async () => {
    expectError(await postJson(`${url}/v1/models/churn/predict`, [record(0)]), 400, 'INVALID_REQUEST');
    expectError(await postJson(`${url}/v1/models/churn/predict`, { instances: 'x' }), 400, 'INVALID_REQUEST');
  });

  it('404 for an unknown model, version or route', async () => {
    expectError(await postJson(`${url}/v1/models/nope/predict`, record(0)), 404, 'MODEL_NOT_FOUND');
    expectError(await postJson(`${url}/v1/models/churn/versions/9/predict`, record(0)), 404, 'VERSION_NOT_FOUND');
    const r = await fetch(`${url}/nowhere`);
    expect(r.status).toBe(404);
    expect(((await r.json()) as any).error.code).toBe('ROUTE_NOT_FOUND');
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const r = await fetch(`${url}/v1/models/churn/predict`);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('POST');
    expect(((await r.json()) as any).error.code).toBe('METHOD_NOT_ALLOWED');
    const d = await fetch(`${url}/healthz`, { method: 'DELETE' });
    expect(d.status).toBe(405);
    expect(d.headers.get('allow')).toBe('GET');
  });

  it('413 for a body over maxBodyBytes and for more instances than maxInstances', async () => {
    const big = JSON.stringify({ instances: new Array(2000).fill(record(0)) });
    expect(big.length).toBeGreaterThan(256 * 1024);
    expectError(await postJson(`${url}/v1/models/churn/predict`, big), 413, 'BODY_TOO_LARGE');
    expectError(
      await postJson(`${url}/v1/models/churn/predict`, { instances: new Array(501).fill({}) }),
      413,
      'TOO_MANY_INSTANCES',
    );
    // The server is fine afterwards.
    expect((await postJson(`${url}/v1/models/churn/predict`, record(0))).status).toBe(200);
  });

  it('415 for a Content-Type that is neither JSON nor MessagePack, and for compressed bodies', async () => {
    expectError(
      await postJson(`${url}/v1/models/churn/predict`, 'tenure=3', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expectError(
      await postJson(`${url}/v1/models/churn/predict`, '{}', { 'content-encoding': 'gzip' }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  it('422 INVALID_FEATURES naming every bad field of every row', async () => {
    const bad = { ...record(0), tenure: -3, Contract: 'Weekly', gender: 7, Partnr: 'Yes' } as Record<string, unknown>;
    delete bad.MonthlyCharges;
    const r = await postJson(`${url}/v1/models/churn/predict`, {
      instances: [record(1), bad, { ...record(2), SeniorCitizen: 0.5 }],
    });
    expectError(r, 422, 'INVALID_FEATURES');
    const issues = r.json.error.details.issues as { row: number; field: string; code: string }[];
    const seen = issues.map((i) => `${i.row}:${i.field}:${i.code}`).sort();
    expect(seen).toEqual(
      [
        '1:Contract:unknown_category',
        '1:MonthlyCharges:missing',
        '1:Partnr:unknown_field',
        '1:gender:wrong_type',
        '1:tenure:out_of_range',
        '2:SeniorCitizen:not_integer',
      ].sort(),
    );
  });

  it('503 (or 429) with Retry-After when the queue is full', async () => {
    const small = await startInProcess({ batcher: { maxQueueRows: 4 }, overloadStatus: '429', retryAfterSeconds: 2 });
    try {
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          fetch(`${small.url}/v1/models/churn/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(record(i)),
          }),
        ),
      );
      const statuses = answers.map((a) => a.status);
      expect(statuses).toContain(200);
      expect(statuses).toContain(429);
      const refused = answers.find((a) => a.status === 429)!;
      expect(refused.headers.get('retry-after')).toBe('2');
      expect(((await refused.json()) as any).error.code).toBe('QUEUE_FULL');
    } finally {
      await small.close();
    }
  });

  it('every code in the table has a status the table documents', () => {
    for (const [code, info] of Object.entries(ERROR_TABLE)) {
      expect([400, 401, 403, 404, 405, 408, 409, 413, 415, 422, 429, 499, 500, 503, 504]).toContain(info.status);
      expect(info.doc.length, code).toBeGreaterThan(10);
    }
  });

  it('echoes the client x-request-id, and gives one on errors', async () => {
    const a = await postJson(`${url}/v1/models/churn/predict`, record(0), { 'x-request-id': 'abc-123' });
    expect(a.headers.get('x-request-id')).toBe('abc-123');
    const b = await postJson(`${url}/v1/models/nope/predict`, record(0));
    expect(b.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('operations endpoints', () => {
  it('/healthz and /readyz', async () => {
    const h = await fetch(`${url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ status: 'alive' });
    const r = await fetch(`${url}/readyz`);
    expect(r.status).toBe(200);
    const j = (await r.json()) as any;
    expect(j.status).toBe('ready');
    expect(j.models).toEqual([
      { name: 'churn', version: '1', state: 'ready', active: true, ready: true },
      { name: 'churn', version: '2', state: 'ready', active: false, ready: true },
    ]);
  });

  it('/metrics: request and inference histograms, batch sizes, queue depth, event-loop lag', async () => {
    await postJson(`${url}/v1/models/churn/predict`, record(0));
    const r = await fetch(`${url}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/plain');
    const text = await r.text();
    expect(text).toMatch(
      /ortline_request_duration_seconds_bucket\{route="v1_predict",model="churn",version="1",status="200",le="0.001"\} \d+/,
    );
    expect(text).toMatch(
      /ortline_request_duration_seconds_count\{route="v1_predict",model="churn",version="1",status="422"\} [1-9]/,
    );
    expect(text).toMatch(/ortline_inference_duration_seconds_bucket\{model="churn",version="1",le="\+Inf"\} [1-9]/);
    expect(text).toMatch(/ortline_batch_rows_bucket\{model="churn",version="1",le="1"\} [1-9]/);
    expect(text).toMatch(/ortline_queue_rows\{model="churn",version="1"\} 0/);
    // A version's first run always goes to a worker; later cheap ones may run inline.
    expect(text).toMatch(/ortline_native_runs_total\{model="churn",version="1",mode="pool"\} [1-9]/);
    expect(text).toMatch(/ortline_native_runs_total\{model="churn",version="1",mode="inline"\} \d+/);
    expect(text).toMatch(/ortline_model_ready\{model="churn",version="2"\} 1/);
    expect(text).toMatch(/ortline_event_loop_delay_seconds\{quantile="0.99"\}/);
    expect(text).toMatch(/nodejs_eventloop_lag_seconds/);
    // Unknown model names do not mint label values.
    expect(text).not.toMatch(/model="nope"/);
  });

  it("/openapi.json is built from the model's feature schema; /docs serves Swagger UI from disk", async () => {
    const o = (await (await fetch(`${url}/openapi.json`)).json()) as any;
    expect(o.openapi).toBe('3.0.3');
    expect(o.paths['/v1/models/{name}/predict'].post).toBeTruthy();
    expect(o.paths['/v2/models/{name}/infer'].post).toBeTruthy();
    const rec = o.components.schemas.churn_record;
    expect(rec.properties.Contract.enum).toEqual(['Month-to-month', 'One year', 'Two year']);
    expect(rec.required).toContain('tenure');
    const d = await fetch(`${url}/docs`);
    expect(d.status).toBe(200);
    const html = await d.text();
    expect(html).toContain('/openapi.json');
    const js = await fetch(`${url}/docs/swagger-ui-bundle.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await fetch(`${url}/docs/../../package.json`)).status).toBe(404);
    // Names an object has without holding them (the fuzzer found __proto__ left the request unanswered).
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = await fetch(`${url}/docs/${name}`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as any).error.code).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('/v1/models lists models; /v1/models/{name} gives the schema', async () => {
    const l = (await (await fetch(`${url}/v1/models`)).json()) as any;
    expect(l.models).toEqual([{ name: 'churn', active_version: '1', versions: ['1', '2'], ready: true }]);
    const m = (await (await fetch(`${url}/v1/models/churn`)).json()) as any;
    expect(m.features.map((f: { name: string }) => f.name)).toEqual(card().features.map((f) => f.name));
    expect(m).toMatchObject({
      version: '1',
      active_version: '1',
      id_fields: ['customer_id', 'customerID'],
      answer: { id_field: 'customer_id', probability_field: 'churn_probability', risk_field: 'risk_category' },
      limits: { max_instances: expect.any(Number), max_body_bytes: expect.any(Number) },
      fixed_features: (card() as unknown as { fixed_features: string[] }).fixed_features,
    });
    expect(m.fixed_features).toContain('gender');
    // A version other than the active one: described as itself, the active one still named.
    const v2 = (await (await fetch(`${url}/v1/models/churn/versions/2`)).json()) as any;
    expect(v2).toMatchObject({ version: '2', active_version: '1', versions: ['1', '2'] });
    // The card as the folder holds it.
    const active = (await (await fetch(`${url}/v1/models/churn/card`)).json()) as any;
    expect(active).toEqual(card());
    expect(((await (await fetch(`${url}/v1/models/churn/versions/2/card`)).json()) as any).metrics).toEqual(
      (card() as any).metrics,
    );
    const missing = await fetch(`${url}/v1/models/churn/versions/9`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe('VERSION_NOT_FOUND');
  });
});

describe('/v1/live', () => {
  it("counts the predictions of each second, from the gateway's own metrics", async () => {
    const start = Date.now();
    // Two seconds of predictions (each record twice: the second is a cache hit) and a few bad ones.
    let sent = 0;
    while (Date.now() - start < 2200) {
      const i = sent % 50;
      await postJson(`${url}/v1/models/churn/predict`, record(i));
      await postJson(`${url}/v1/models/churn/predict`, record(i));
      if (sent % 10 === 0) await postJson(`${url}/v1/models/churn/predict`, { ...record(i), tenure: -1 });
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1100));
    const body = (await (await fetch(`${url}/v1/live?since=${start}`)).json()) as any;
    expect(body.interval_ms).toBe(1000);
    const points = body.points as any[];
    expect(points.length).toBeGreaterThanOrEqual(2);
    expect(points.every((p) => p.t > start)).toBe(true);
    const busy = points.filter((p) => p.requests_per_second > 0);
    expect(busy.length).toBeGreaterThanOrEqual(2);
    const total = points.reduce((n, p) => n + p.requests_per_second * (body.interval_ms / 1000), 0);
    // Every prediction request is counted once (the sampler's seconds are not exactly 1000 ms).
    expect(total / (sent * 2 + Math.ceil(sent / 10))).toBeGreaterThan(0.8);
    for (const p of busy) {
      expect(p.p50_ms).toBeGreaterThan(0);
      expect(p.p99_ms).toBeGreaterThanOrEqual(p.p50_ms);
      expect(p.cache_hit_ratio).toBeGreaterThan(0.3);
    }
    expect(busy.some((p) => p.client_errors_per_second > 0)).toBe(true);
    expect(busy.some((p) => p.batch_rows_mean >= 1)).toBe(true);
    // Only newer points after `since`.
    const last = points.at(-1).t;
    const later = (await (await fetch(`${url}/v1/live?since=${last}`)).json()) as any;
    expect(later.points.every((p: { t: number }) => p.t > last)).toBe(true);
  });

  it('refuses a since that is not a time', async () => {
    for (const since of ['-1', 'soon', '1.5', '', '9007199254740992']) {
      const r = await fetch(`${url}/v1/live?since=${since}`);
      expect(r.status).toBe(400);
      expect(((await r.json()) as any).error).toMatchObject({ code: 'INVALID_REQUEST', details: { field: 'since' } });
    }
  });
});

describe('client aborts', () => {
  it('a client gone mid-body, and one gone while its request is being scored: the server survives and answers the next request', async () => {
    const u = new URL(url);
    const body = JSON.stringify({ instances: new Array(300).fill(record(0)) });
    // 1: half a body, then the socket closes.
    await new Promise<void>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.write(
          `POST /v1/models/churn/predict HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
        );
        s.write(body.slice(0, 1000));
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 20);
      });
    });
    // 2: full bodies, then the sockets close before the answers come: many at once, so some are
    // mid-run when they go.
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const req = request(`${url}/v1/models/churn/predict`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
            });
            req.on('error', () => resolve());
            req.end(body, () => {
              setImmediate(() => {
                req.destroy();
                resolve();
              });
            });
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    const r = await postJson(`${url}/v1/models/churn/predict`, record(0));
    expect(r.status).toBe(200);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // The aborts were counted, as 499, and nothing was written to them.
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(
      /ortline_request_duration_seconds_count\{route="v1_predict",model="churn",version="1",status="499"\} [1-9]/,
    );
  });

  it('keeps a keep-alive connection usable after an error answered before the body was read', async () => {
    const u = new URL(url);
    const body = JSON.stringify(record(0));
    const text = await new Promise<string>((resolve, reject) => {
      let got = '';
      const s = connect(Number(u.port), u.hostname, () => {
        const req = (path: string) =>
          `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
        s.write(req('/v1/models/nope/predict') + req('/v1/models/churn/predict'));
      });
      s.on('data', (d) => {
        got += d.toString();
        if ((got.match(/HTTP\/1\.1 /g) ?? []).length >= 2 && got.includes('churn_probability')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
      setTimeout(() => reject(new Error(`timeout; got ${got}`)), 5000);
    });
    expect(text).toContain('HTTP/1.1 404');
    expect(text).toContain('HTTP/1.1 200');
  });
});
