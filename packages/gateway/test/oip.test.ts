// Open Inference Protocol v2 end to end, with a client written from the specification
// (oip-client.ts): metadata, health, JSON tensors, the binary tensor data extension both ways,
// and the protocol's error cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parity, startInProcess } from './helpers.js';
import { inferBinary, inferJson, recordsToTensors, type TensorIn } from './oip-client.js';

let url: string;
let close: () => Promise<void>;
let metadata: {
  name: string;
  versions: string[];
  platform: string;
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
};
const { rows, tolerance } = parity();

beforeAll(async () => {
  ({ url, close } = await startInProcess());
  metadata = (await (await fetch(`${url}/v2/models/churn`)).json()) as any;
});
afterAll(() => close?.());

const probabilitiesOf = (outputs: { name: string; data: unknown[] }[]) =>
  outputs.find((o) => o.name === 'probabilities')!.data as number[];

describe('OIP v2 metadata and health', () => {
  it('GET /v2 names the server and the binary tensor extension', async () => {
    const r = await (await fetch(`${url}/v2`)).json();
    expect(r).toEqual({ name: 'ortline', version: expect.any(String), extensions: ['binary_tensor_data'] });
  });

  it('live, ready, model ready (active and by version), 404 for unknown ones', async () => {
    expect((await fetch(`${url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/churn/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/churn/versions/2/ready`)).status).toBe(200);
    expect((await fetch(`${url}/v2/models/nope/ready`)).status).toBe(404);
    expect((await fetch(`${url}/v2/models/churn/versions/7/ready`)).status).toBe(404);
  });

  it('model metadata: every version, inputs and outputs with OIP datatypes and -1 for dynamic dims', async () => {
    expect(metadata.name).toBe('churn');
    expect(metadata.versions).toEqual(['1', '2']);
    expect(metadata.inputs).toHaveLength(19);
    expect(metadata.inputs.find((i) => i.name === 'Contract')).toEqual({
      name: 'Contract',
      datatype: 'BYTES',
      shape: [-1, 1],
    });
    expect(metadata.inputs.find((i) => i.name === 'tenure')).toEqual({
      name: 'tenure',
      datatype: 'FP32',
      shape: [-1, 1],
    });
    expect(metadata.outputs).toEqual([
      { name: 'label', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
    ]);
    const v = (await (await fetch(`${url}/v2/models/churn/versions/2`)).json()) as any;
    expect(v.versions).toEqual(['2']);
    expect((await fetch(`${url}/v2/models/churn/versions/3`)).status).toBe(404);
  });
});

describe('OIP v2 inference', () => {
  // JSON cannot carry NaN: the JSON cases use rows with every value present.
  const complete = rows.filter((r) => Object.values(r.features).every((v) => v !== null)).slice(0, 20);

  it('JSON tensors in and out reproduce the parity probabilities', async () => {
    const inputs = recordsToTensors(
      complete.map((r) => r.features),
      metadata,
    );
    const r = await inferJson(url, '/v2/models/churn/infer', { id: 'req-1', inputs });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.body.model_name).toBe('churn');
    expect(r.body.model_version).toBe('1');
    expect(r.body.id).toBe('req-1');
    const probs = probabilitiesOf(r.body.outputs!);
    expect(r.body.outputs!.find((o) => o.name === 'probabilities')!.shape).toEqual([complete.length, 2]);
    for (const [i, row] of complete.entries())
      expect(Math.abs(probs[2 * i + 1]! - row.probability)).toBeLessThanOrEqual(tolerance);
    const labels = r.body.outputs!.find((o) => o.name === 'label')!;
    expect(labels.datatype).toBe('INT64');
    expect(labels.data).toEqual(complete.map((_, i) => (probs[2 * i + 1]! > probs[2 * i]! ? 1 : 0)));
  });

  it('accepts nested JSON data (row-major) as well as flat', async () => {
    const inputs = recordsToTensors(
      complete.slice(0, 3).map((r) => r.features),
      metadata,
    ).map((t) => ({ ...t, data: (t.data as unknown[]).map((x) => [x]) }));
    const r = await inferJson(url, '/v2/models/churn/versions/2/infer', {
      inputs,
      outputs: [{ name: 'probabilities' }],
    });
    expect(r.status).toBe(200);
    expect(r.body.model_version).toBe('2');
    expect(r.body.outputs!.map((o) => o.name)).toEqual(['probabilities']);
  });

  it('binary tensors in (all 300 parity rows, missing values as NaN), binary out via binary_data_output', async () => {
    const inputs = recordsToTensors(
      rows.map((r) => r.features),
      metadata,
    );
    const r = await inferBinary(url, '/v2/models/churn/infer', inputs, { binaryOutput: true, id: 'bin' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    expect(Number(r.headers.get('inference-header-content-length'))).toBeGreaterThan(0);
    const probs = probabilitiesOf(r.body.outputs!);
    expect(probs).toHaveLength(rows.length * 2);
    for (const [i, row] of rows.entries())
      expect(Math.abs(probs[2 * i + 1]! - row.probability)).toBeLessThanOrEqual(tolerance);
    expect(r.body.outputs!.find((o) => o.name === 'label')!.data).toHaveLength(rows.length);
  });

  it('per-output binary_data: one output binary, the other JSON', async () => {
    const inputs = recordsToTensors(
      rows.slice(0, 5).map((r) => r.features),
      metadata,
    );
    const r = await inferBinary(url, '/v2/models/churn/infer', inputs, {
      outputs: [
        { name: 'probabilities', binary: true },
        { name: 'label', binary: false },
      ],
    });
    expect(r.status).toBe(200);
    const raw = await fetch(`${url}/v2/models/churn/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: recordsToTensors(
          complete.slice(0, 2).map((x) => x.features),
          metadata,
        ),
      }),
    });
    expect(raw.headers.get('inference-header-content-length')).toBeNull();
    expect(probabilitiesOf(r.body.outputs!)).toHaveLength(10);
    expect(r.body.outputs!.find((o) => o.name === 'label')!.data).toHaveLength(5);
  });

  it('binary tensors in, JSON out when no binary output is asked for', async () => {
    const inputs = recordsToTensors(
      rows.slice(0, 4).map((r) => r.features),
      metadata,
    );
    const r = await inferBinary(url, '/v2/models/churn/infer', inputs);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    for (const [i, row] of rows.slice(0, 4).entries())
      expect(Math.abs(probabilitiesOf(r.body.outputs!)[2 * i + 1]! - row.probability)).toBeLessThanOrEqual(tolerance);
  });
});

describe('OIP v2 errors', () => {
  const base = () =>
    recordsToTensors(
      rows.slice(0, 2).map((r) => ({ ...r.features, TotalCharges: 1 })),
      metadata,
    );
  const expectCode = (r: { status: number; body: { error?: { code: string } } }, status: number, code: string) => {
    expect(r.status).toBe(status);
    expect(r.body.error!.code).toBe(code);
  };

  it('unknown input, missing input, wrong datatype, wrong shape, unknown output: 400 with a code naming it', async () => {
    expectCode(
      await inferJson(url, '/v2/models/churn/infer', {
        inputs: [...base(), { name: 'extra', datatype: 'FP32', shape: [2, 1], data: [1, 2] }],
      }),
      400,
      'UNKNOWN_INPUT',
    );
    expectCode(
      await inferJson(url, '/v2/models/churn/infer', { inputs: base().filter((t) => t.name !== 'tenure') }),
      400,
      'MISSING_INPUT',
    );
    expectCode(
      await inferJson(url, '/v2/models/churn/infer', {
        inputs: base().map((t) => (t.name === 'tenure' ? { ...t, datatype: 'FP64' } : t)),
      }),
      400,
      'INPUT_TYPE_MISMATCH',
    );
    expectCode(
      await inferJson(url, '/v2/models/churn/infer', {
        inputs: base().map((t) => (t.name === 'tenure' ? { ...t, shape: [2, 2] } : t)),
      }),
      400,
      'INPUT_SHAPE_MISMATCH',
    );
    expectCode(
      await inferJson(url, '/v2/models/churn/infer', {
        inputs: base().map((t) => (t.name === 'tenure' ? { ...t, data: [1] } : t)),
      }),
      400,
      'INPUT_SHAPE_MISMATCH',
    );
    expectCode(
      await inferJson(url, '/v2/models/churn/infer', { inputs: base(), outputs: [{ name: 'nope' }] }),
      400,
      'UNKNOWN_OUTPUT',
    );
    expectCode(await inferJson(url, '/v2/models/churn/infer', { inputs: 'x' }), 400, 'INVALID_REQUEST');
  });

  it('binary data that does not match its header is 400 MALFORMED_BODY', async () => {
    const inputs: TensorIn[] = base();
    const good = await inferBinary(url, '/v2/models/churn/infer', inputs);
    expect(good.status).toBe(200);
    const r = await fetch(`${url}/v2/models/churn/infer`, {
      method: 'POST',
      headers: { 'inference-header-content-length': '9999' },
      body: '{"inputs":[]}',
    });
    expect(r.status).toBe(400);
    expect(((await r.json()) as any).error.code).toBe('MALFORMED_BODY');
  });

  it('unknown model 404; GET on infer 405', async () => {
    expectCode(await inferJson(url, '/v2/models/nope/infer', { inputs: base() }), 404, 'MODEL_NOT_FOUND');
    expect((await fetch(`${url}/v2/models/churn/infer`)).status).toBe(405);
  });
});
