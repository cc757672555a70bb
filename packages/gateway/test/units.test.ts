// The gateway's pure parts, without a model: OIP tensor decoding and encoding, answers and risk
// bands, the repository scan, content negotiation, the error table, the request histogram.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InputPlan } from '@ortline/scorer';
import { describe, expect, it, onTestFinished } from 'vitest';
import { toClientError } from '../src/errors.js';
import { JSON_FORMAT, MSGPACK_FORMAT, requestFormat, responseFormat, UNSUPPORTED } from '../src/http/codec.js';
import { FastHistogram } from '../src/metrics/fast-histogram.js';
import { bucketQuantile, LiveStats } from '../src/metrics/live.js';
import { encodeInferResponse, parseInferRequest } from '../src/oip/tensors.js';
import {
  AnswerRenderer,
  DEFAULT_ANSWER_FIELDS,
  ModelCardError,
  PredictionIds,
  parseAnswerFields,
  parseRiskBands,
} from '../src/predict/answer.js';
import { parseFixedFeatures } from '../src/registry/fixed.js';
import { scanRepository } from '../src/registry/repository.js';

const inputs = [
  { name: 'city', type: 'string' as const, shape: [null, 1] },
  { name: 'age', type: 'float32' as const, shape: [null, 1] },
  { name: 'n', type: 'int64' as const, shape: [null, 1] },
];
const outputs = [
  { name: 'label', type: 'int64' as const, shape: [null] },
  { name: 'probabilities', type: 'float32' as const, shape: [null, 2] },
];
// The plans the core derives from these inputs (a model's own come from Model.inputPlans).
const plans: InputPlan[] = inputs.map((i) => ({
  name: i.name,
  type: i.type,
  batch: 'rows',
  fixedRows: null,
  dims: [1],
  width: 1,
  jsType: i.type === 'string' ? 'string' : i.type === 'int64' ? 'BigInt64Array' : 'Float32Array',
  unsupported: null,
  categories: null,
}));
const sig = {
  name: 'm',
  inputs,
  outputs,
  inputByName: new Map(inputs.map((i) => [i.name, i])),
  inputPlanByName: new Map(plans.map((p) => [p.name, p])),
  outputByName: new Map(outputs.map((o) => [o.name, o])),
};

function binaryBody(
  tensors: { name: string; datatype: string; shape: number[]; bytes: Buffer }[],
  extra: Record<string, unknown> = {},
) {
  const header = {
    ...extra,
    inputs: tensors.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: { binary_data_size: t.bytes.length },
    })),
  };
  return { header, binary: Buffer.concat(tensors.map((t) => t.bytes)) };
}

function bytesOf(strings: string[]): Buffer {
  return Buffer.concat(
    strings.flatMap((s) => {
      const b = Buffer.from(s);
      const l = Buffer.alloc(4);
      l.writeUInt32LE(b.length);
      return [l, b];
    }),
  );
}

describe('OIP tensors', () => {
  it('JSON tensors -> typed feeds; outputs default to all, JSON', () => {
    const r = parseInferRequest(
      {
        id: 'x',
        inputs: [
          { name: 'city', datatype: 'BYTES', shape: [2, 1], data: ['a', 'b'] },
          { name: 'age', datatype: 'FP32', shape: [2, 1], data: [[1.5], [2]] },
          { name: 'n', datatype: 'INT64', shape: [2, 1], data: [3, 4] },
        ],
      },
      undefined,
      sig,
    );
    expect(r.rows).toBe(2);
    expect(r.id).toBe('x');
    expect(r.feeds.city).toEqual(['a', 'b']);
    expect(r.feeds.age).toEqual(new Float32Array([1.5, 2]));
    expect(r.feeds.n).toEqual(new BigInt64Array([3n, 4n]));
    expect(r.outputs).toEqual([
      { name: 'label', binary: false },
      { name: 'probabilities', binary: false },
    ]);
  });

  it('binary tensors (BYTES length-prefixed, unaligned offsets) -> feeds', () => {
    const { header, binary } = binaryBody(
      [
        { name: 'city', datatype: 'BYTES', shape: [3, 1], bytes: bytesOf(['Zürich', '', 'x']) },
        { name: 'age', datatype: 'FP32', shape: [3, 1], bytes: Buffer.from(new Float32Array([1, NaN, 3]).buffer) },
        { name: 'n', datatype: 'INT64', shape: [3, 1], bytes: Buffer.from(new BigInt64Array([1n, 2n, -3n]).buffer) },
      ],
      { parameters: { binary_data_output: true } },
    );
    const r = parseInferRequest(header, binary, sig);
    expect(r.feeds.city).toEqual(['Zürich', '', 'x']);
    expect(Array.from(r.feeds.age as Float32Array)).toEqual([1, NaN, 3]);
    expect(r.feeds.n).toEqual(new BigInt64Array([1n, 2n, -3n]));
    expect(r.outputs.every((o) => o.binary)).toBe(true);
  });

  it('rejects mismatches with the code that names them', () => {
    const ok = [
      { name: 'city', datatype: 'BYTES', shape: [1, 1], data: ['a'] },
      { name: 'age', datatype: 'FP32', shape: [1, 1], data: [1] },
      { name: 'n', datatype: 'INT64', shape: [1, 1], data: [1] },
    ];
    const code = (header: unknown, binary?: Uint8Array) => {
      try {
        parseInferRequest(header, binary, sig);
        return 'none';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code({ inputs: ok })).toBe('none');
    expect(code({ inputs: [...ok, { name: 'zzz', datatype: 'FP32', shape: [1, 1], data: [1] }] })).toBe(
      'UNKNOWN_INPUT',
    );
    expect(code({ inputs: ok.slice(1) })).toBe('MISSING_INPUT');
    expect(code({ inputs: [ok[0], { ...ok[1], datatype: 'FP64' }, ok[2]] })).toBe('INPUT_TYPE_MISMATCH');
    expect(code({ inputs: [ok[0], { ...ok[1], data: ['1'] }, ok[2]] })).toBe('INPUT_TYPE_MISMATCH');
    expect(code({ inputs: [ok[0], { ...ok[1], shape: [1] }, ok[2]] })).toBe('INPUT_SHAPE_MISMATCH');
    expect(code({ inputs: [ok[0], { ...ok[1], shape: [2, 1], data: [1, 2] }, ok[2]] })).toBe('INPUT_SHAPE_MISMATCH');
    expect(code({ inputs: [ok[0], ok[1], { ...ok[2], data: [1.5] }] })).toBe('INPUT_TYPE_MISMATCH');
    expect(code({ inputs: [ok[0], ok[0], ok[1], ok[2]] })).toBe('INVALID_REQUEST');
    expect(code({ inputs: ok, outputs: [{ name: 'nope' }] })).toBe('UNKNOWN_OUTPUT');
    expect(code({ inputs: [] })).toBe('INVALID_REQUEST');
    expect(code({ inputs: [{ ...ok[0], data: undefined }, ok[1], ok[2]] })).toBe('INVALID_REQUEST');
    // Binary: sizes that do not add up.
    const b = binaryBody([
      { name: 'city', datatype: 'BYTES', shape: [1, 1], bytes: bytesOf(['a']) },
      { name: 'age', datatype: 'FP32', shape: [1, 1], bytes: Buffer.alloc(4) },
      { name: 'n', datatype: 'INT64', shape: [1, 1], bytes: Buffer.alloc(8) },
    ]);
    expect(code(b.header, b.binary)).toBe('none');
    expect(code(b.header, Buffer.concat([b.binary, Buffer.alloc(1)]))).toBe('MALFORMED_BODY');
    expect(code(b.header, b.binary.subarray(0, b.binary.length - 1))).toBe('MALFORMED_BODY');
    const wrongSize = binaryBody([
      { name: 'city', datatype: 'BYTES', shape: [1, 1], bytes: bytesOf(['a']) },
      { name: 'age', datatype: 'FP32', shape: [1, 1], bytes: Buffer.alloc(8) },
      { name: 'n', datatype: 'INT64', shape: [1, 1], bytes: Buffer.alloc(8) },
    ]);
    expect(code(wrongSize.header, wrongSize.binary)).toBe('INPUT_SHAPE_MISMATCH');
  });

  it('encodes outputs as JSON, or as a JSON header followed by binary data', () => {
    const outs = {
      label: { type: 'int64' as const, shape: [2], data: new BigInt64Array([0n, 1n]) },
      probabilities: { type: 'float32' as const, shape: [2, 2], data: new Float32Array([0.75, 0.25, 0.5, 0.5]) },
    };
    const j = encodeInferResponse(
      'm',
      '1',
      'id1',
      [
        { name: 'label', binary: false },
        { name: 'probabilities', binary: false },
      ],
      outs,
      sig,
    );
    expect(j.headerLength).toBeUndefined();
    expect(JSON.parse(j.body as string)).toEqual({
      model_name: 'm',
      model_version: '1',
      id: 'id1',
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [2], data: [0, 1] },
        { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: [0.75, 0.25, 0.5, 0.5] },
      ],
    });
    const b = encodeInferResponse(
      'm',
      '1',
      undefined,
      [
        { name: 'probabilities', binary: true },
        { name: 'label', binary: false },
      ],
      outs,
      sig,
    );
    expect(b.contentType).toBe('application/octet-stream');
    const body = b.body as Buffer;
    const header = JSON.parse(body.subarray(0, b.headerLength).toString());
    expect(header.outputs[0]).toEqual({
      name: 'probabilities',
      datatype: 'FP32',
      shape: [2, 2],
      parameters: { binary_data_size: 16 },
    });
    expect(Array.from(new Float32Array(new Uint8Array(body.subarray(b.headerLength!)).buffer))).toEqual([
      0.75, 0.25, 0.5, 0.5,
    ]);
  });
});

describe('answers', () => {
  const bands = parseRiskBands(
    [
      { category: 'Low', max: 0.29 },
      { category: 'Medium', max: 0.5 },
      { category: 'High', max: 1 },
    ],
    'test',
  );

  it('risk category: the first band whose max is at least p', () => {
    const r = churn('3');
    expect(r.category(0)).toBe('Low');
    expect(r.category(0.29)).toBe('Low');
    expect(r.category(0.2900001)).toBe('Medium');
    expect(r.category(0.5)).toBe('Medium');
    expect(r.category(0.99)).toBe('High');
    expect(new AnswerRenderer('1', [], new PredictionIds('p')).category(0.4)).toBeNull();
  });

  const churnFields = parseAnswerFields(
    { id_field: 'customer_id', probability_field: 'churn_probability', risk_field: 'risk_category' },
    'test',
  );
  const churn = (version: string) =>
    new AnswerRenderer(version, bands, new PredictionIds('p'), churnFields, ['customer_id', 'customerID']);

  it('the hand-rolled JSON equals JSON.stringify of the object, key order included, for awkward ids too', () => {
    for (const id of ['C-1', 'quote"and\\slash', 'ünï', 12, null, undefined, { a: 1 }, 'x'.repeat(100)]) {
      const json = churn('7').json({ customer_id: id }, 0.4242);
      expect(json).toBe(JSON.stringify(churn('7').object({ customer_id: id }, 0.4242)));
      expect(JSON.parse(json).customer_id).toEqual(id ?? null);
    }
    expect(JSON.parse(churn('1').json({}, NaN)).churn_probability).toBeNull();
  });

  it("the answer's field names come from the card; a card without them gets neutral names", () => {
    const fields = parseAnswerFields(
      { id_field: 'transaction_id', probability_field: 'fraud_probability', risk_field: 'risk_level' },
      'test',
    );
    const r = new AnswerRenderer('2', bands, new PredictionIds('q'), fields, ['transaction_id']);
    expect(JSON.parse(r.json({ transaction_id: 'T9', amount: 3 }, 0.75))).toEqual({
      transaction_id: 'T9',
      fraud_probability: 0.75,
      risk_level: 'High',
      model_version: '2',
      prediction_id: 'q-1',
    });
    const plain = new AnswerRenderer('1', [], new PredictionIds('z'), parseAnswerFields(undefined, 'test'), ['id']);
    expect(Object.keys(plain.object({ id: 4 }, 0.1))).toEqual([
      'id',
      'probability',
      'risk_category',
      'model_version',
      'prediction_id',
    ]);
    expect(parseAnswerFields({ probability_field: 'score' }, 'test')).toEqual({
      ...DEFAULT_ANSWER_FIELDS,
      probability: 'score',
    });
  });

  it('answer field names must be distinct non-empty strings and leave the gateway its own', () => {
    expect(() => parseAnswerFields({ id_field: '' }, 'm/1')).toThrow('m/1: answer.id_field must be a non-empty string');
    expect(() => parseAnswerFields({ risk_field: 3 }, 'm/1')).toThrow('answer.risk_field');
    expect(() => parseAnswerFields({ probability_field: 'model_version' }, 'm/1')).toThrow("the gateway's own field");
    expect(() => parseAnswerFields({ id_field: 'x', probability_field: 'x' }, 'm/1')).toThrow('distinct');
    expect(() => parseAnswerFields(['id'], 'm/1')).toThrow('"answer" must be an object');
  });

  it('prediction ids are unique; ids come from the first id field present', () => {
    const ids = new PredictionIds();
    const seen = new Set(Array.from({ length: 10_000 }, () => ids.next()));
    expect(seen.size).toBe(10_000);
    expect(churn('1').recordId({ customerID: 'b' })).toBe('b');
    expect(churn('1').recordId({ customer_id: 'a', customerID: 'b' })).toBe('a');
    expect(churn('1').recordId({ customer_id: null, customerID: 'b' })).toBe('b');
    expect(churn('1').recordId(5)).toBeNull();
  });

  it('risk thresholds must increase', () => {
    expect(() =>
      parseRiskBands(
        [
          { category: 'a', max: 0.5 },
          { category: 'b', max: 0.4 },
        ],
        'x',
      ),
    ).toThrow(/increasing/);
    expect(() => parseRiskBands([{ category: 'a' }], 'x')).toThrow();
  });

  it("fixed features must name the card's features", () => {
    const names = new Set(['gender', 'tenure', 'Contract']);
    expect(parseFixedFeatures(undefined, names, 'x')).toEqual([]);
    expect(parseFixedFeatures(['gender', 'tenure', 'gender'], names, 'x')).toEqual(['gender', 'tenure']);
    expect(() => parseFixedFeatures(['gender', 'age'], names, 'c/model.json')).toThrow(
      'c/model.json: fixed_features names no feature of the card: age',
    );
    expect(() => parseFixedFeatures('gender', names, 'x')).toThrow(/array of feature names/);
    expect(() => parseFixedFeatures([1], names, 'x')).toThrow(ModelCardError);
  });
});

describe('model repository scan', () => {
  function repo(layout: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-repo-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    for (const [path, content] of Object.entries(layout)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  }

  it('finds numeric versions with a model.onnx, picks the highest unless ACTIVE says otherwise, ignores other folders', () => {
    const dir = repo({
      'a/1/model.onnx': '',
      'a/10/model.onnx': '',
      'a/2/model.onnx': '',
      'a/3/model.json': '{}',
      'b/1/model.onnx': '',
      'b/2/model.onnx': '',
      'b/ACTIVE': '1\n',
      'training/x.py': '',
    });
    const { models, ignored } = scanRepository(dir);
    expect(models.map((m) => [m.name, m.versions.map((v) => v.version), m.routing.active])).toEqual([
      ['a', ['1', '2', '10'], '10'],
      ['b', ['1', '2'], '1'],
    ]);
    expect(models[0]!.skipped).toEqual(['a/3: no model.onnx']);
    expect(ignored).toEqual(['training']);
  });

  it('fails on an ACTIVE file naming a version that is not there, and on a missing directory', () => {
    expect(() => scanRepository(repo({ 'a/1/model.onnx': '', 'a/ACTIVE': '4' }))).toThrow(/names version "4"/);
    expect(() => scanRepository('/nonexistent/x')).toThrow(/does not exist/);
  });
});

describe('content negotiation', () => {
  it('request format by Content-Type; answer format by Accept, else the request format', () => {
    expect(requestFormat('')).toBe(JSON_FORMAT);
    expect(requestFormat('application/json; charset=utf-8')).toBe(JSON_FORMAT);
    expect(requestFormat('Application/MsgPack')).toBe(MSGPACK_FORMAT);
    expect(requestFormat('application/x-msgpack')).toBe(MSGPACK_FORMAT);
    expect(requestFormat('text/plain')).toBe(UNSUPPORTED);
    expect(responseFormat('', MSGPACK_FORMAT)).toBe(MSGPACK_FORMAT);
    expect(responseFormat('*/*', JSON_FORMAT)).toBe(JSON_FORMAT);
    expect(responseFormat('application/msgpack', JSON_FORMAT)).toBe(MSGPACK_FORMAT);
    expect(responseFormat('application/json, application/msgpack;q=0.5', MSGPACK_FORMAT)).toBe(JSON_FORMAT);
    expect(responseFormat('text/html', MSGPACK_FORMAT)).toBe(JSON_FORMAT);
  });
});

describe('error table', () => {
  it('maps codes to statuses; QUEUE_FULL follows overloadStatus; unknown errors are 500 INTERNAL without leaking', () => {
    expect(toClientError({ code: 'INVALID_FEATURES', message: 'm', details: { issues: [] } }, 503)).toMatchObject({
      status: 422,
      code: 'INVALID_FEATURES',
    });
    expect(toClientError({ code: 'QUEUE_FULL', message: 'm' }, 429).status).toBe(429);
    expect(toClientError({ code: 'QUEUE_FULL', message: 'm' }, 503).status).toBe(503);
    const e = toClientError(new Error('secret path /etc/x'), 503);
    expect(e).toMatchObject({ status: 500, code: 'INTERNAL', message: 'internal error' });
    expect(toClientError({ code: 'SOMETHING_NEW', message: 'x' }, 503).status).toBe(500);
    expect(
      toClientError({ code: 'MODEL_NOT_FOUND', message: 'x', details: { cause: new Error('inner') } }, 503).details,
    ).toEqual({});
  });
});

describe('request histogram', () => {
  it('renders cumulative buckets, sum and count like prom-client', () => {
    const h = new FastHistogram('x_seconds', 'help', [0.1, 1]);
    const c = h.child({ route: 'r' });
    for (const v of [0.05, 0.1, 0.5, 2]) c.observe(v);
    const values = h.get().values.map((v) => `${v.metricName}${JSON.stringify(v.labels)} ${v.value}`);
    expect(values).toEqual([
      'x_seconds_bucket{"route":"r","le":0.1} 2',
      'x_seconds_bucket{"route":"r","le":1} 3',
      'x_seconds_bucket{"route":"r","le":"+Inf"} 4',
      'x_seconds_sum{"route":"r"} 2.65',
      'x_seconds_count{"route":"r"} 4',
    ]);
  });
});

describe('live statistics', () => {
  const bounds = Float64Array.from([0.001, 0.002, 0.004]);

  it('quantiles interpolate inside their bucket, as histogram_quantile does', () => {
    // 10 answers in (0, 1 ms], 10 in (1, 2 ms]: the median is 1 ms, p75 1.5 ms.
    const counts = Float64Array.from([10, 10, 0, 0]);
    expect(bucketQuantile(0.5, bounds, counts)).toBeCloseTo(0.001, 9);
    expect(bucketQuantile(0.75, bounds, counts)).toBeCloseTo(0.0015, 9);
    // Past the last bound: the last bound, not infinity.
    expect(bucketQuantile(0.99, bounds, Float64Array.from([1, 0, 0, 99]))).toBe(0.004);
    expect(bucketQuantile(0.5, bounds, new Float64Array(4))).toBeNull();
  });

  it('each point is what changed since the previous sample', () => {
    let totals = {
      requests: 0,
      clientErrors: 0,
      serverErrors: 0,
      latency: new Float64Array(4),
      runs: 0,
      rows: 0,
      cacheHits: 0,
      cacheLookups: 0,
    };
    const live = new LiveStats(() => totals, bounds, 3);
    live.sample(1000);
    expect(live.since(0)).toEqual([]);
    totals = {
      requests: 20,
      clientErrors: 2,
      serverErrors: 1,
      latency: Float64Array.from([10, 10, 0, 0]),
      runs: 4,
      rows: 40,
      cacheHits: 5,
      cacheLookups: 20,
    };
    live.sample(3000);
    expect(live.since(0)).toEqual([
      {
        t: 3000,
        requests_per_second: 10,
        p50_ms: 1,
        p99_ms: expect.closeTo(1.98, 9),
        client_errors_per_second: 1,
        server_errors_per_second: 0.5,
        cache_hit_ratio: 0.25,
        batch_rows_mean: 10,
      },
    ]);
    // A quiet second: zero rates, nothing to take a quantile, a ratio or a mean of.
    live.sample(4000);
    expect(live.since(3000)).toEqual([
      {
        t: 4000,
        requests_per_second: 0,
        p50_ms: null,
        p99_ms: null,
        client_errors_per_second: 0,
        server_errors_per_second: 0,
        cache_hit_ratio: null,
        batch_rows_mean: null,
      },
    ]);
    live.sample(5000);
    live.sample(6000);
    // Only the last three are kept.
    expect(live.since(0).map((p) => p.t)).toEqual([4000, 5000, 6000]);
  });
});
