// Open Inference Protocol (KServe v2 / Triton) inference requests and responses, JSON tensors
// and the binary tensor data extension: the JSON header first, then each binary tensor in input
// order, little-endian, row-major; BYTES elements as a 4-byte length then the bytes.
import type { Feed, Feeds, InputPlan, Output, TensorInfo } from '@ortline/scorer';
import { GatewayError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../http/deadline.js';
import { ELEMENT_BYTES, oipDatatype } from './datatypes.js';

export interface RequestedOutput {
  readonly name: string;
  readonly binary: boolean;
}

export interface InferRequest {
  readonly id: string | undefined;
  readonly feeds: Feeds;
  readonly rows: number;
  readonly outputs: readonly RequestedOutput[];
  /** `parameters.timeout` (Triton's schedule-policy parameter, microseconds) in milliseconds; undefined for none or 0. */
  readonly timeoutMs: number | undefined;
}

interface Signature {
  readonly name: string;
  readonly inputs: readonly TensorInfo[];
  readonly inputByName: ReadonlyMap<string, TensorInfo>;
  /** The core's input plans (how each input is fed), by name. */
  readonly inputPlanByName: ReadonlyMap<string, InputPlan>;
  readonly outputs: readonly TensorInfo[];
  readonly outputByName: ReadonlyMap<string, TensorInfo>;
}

const bad = (code: 'INVALID_REQUEST' | 'MALFORMED_BODY', message: string, details: Record<string, unknown> = {}) =>
  new GatewayError(code, message, details);

/** `parameters.timeout`: a whole number of microseconds (0: none, as in Triton), up to an hour. */
function timeoutOf(us: unknown): number | undefined {
  if (us === undefined || us === 0) return undefined;
  if (typeof us !== 'number' || !Number.isSafeInteger(us) || us < 0 || us > MAX_TIMEOUT_MS * 1000) {
    throw bad(
      'INVALID_REQUEST',
      `parameters.timeout must be a whole number of microseconds from 0 to ${MAX_TIMEOUT_MS * 1000}, got ${JSON.stringify(us) ?? String(us)}`,
      { field: 'parameters.timeout' },
    );
  }
  return Math.max(1, Math.ceil(us / 1000));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Checks an inference request against the model signature and turns its tensors into feeds.
 * `binary` is the body after the JSON header (binary extension), or undefined.
 */
export function parseInferRequest(header: unknown, binary: Uint8Array | undefined, sig: Signature): InferRequest {
  if (!isObject(header)) throw bad('INVALID_REQUEST', 'an inference request must be a JSON object with "inputs"');
  const id = header.id;
  if (id !== undefined && typeof id !== 'string')
    throw bad('INVALID_REQUEST', '"id" must be a string', { field: 'id' });
  const params = header.parameters;
  if (params !== undefined && !isObject(params))
    throw bad('INVALID_REQUEST', '"parameters" must be an object', { field: 'parameters' });
  const timeoutMs = timeoutOf(params?.timeout);
  const inputs = header.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw bad('INVALID_REQUEST', '"inputs" must be a non-empty array of tensors', { field: 'inputs' });

  const feeds: Feeds = {};
  let rows = -1;
  let cursor = 0;
  for (const [i, t] of inputs.entries()) {
    const where = `inputs[${i}]`;
    if (!isObject(t)) throw bad('INVALID_REQUEST', `${where} must be an object`, { field: where });
    const name = t.name;
    if (typeof name !== 'string')
      throw bad('INVALID_REQUEST', `${where}.name must be a string`, { field: `${where}.name` });
    const info = sig.inputByName.get(name);
    if (!info) {
      throw new GatewayError(
        'UNKNOWN_INPUT',
        `"${name}" is not an input of model "${sig.name}" (inputs: ${sig.inputs.map((x) => x.name).join(', ')})`,
        { input: name },
      );
    }
    if (feeds[name] !== undefined) throw bad('INVALID_REQUEST', `input "${name}" is given twice`, { input: name });
    const expected = oipDatatype(info.type);
    if (t.datatype !== expected) {
      throw new GatewayError(
        'INPUT_TYPE_MISMATCH',
        `input "${name}" has datatype ${expected}, got ${JSON.stringify(t.datatype)}`,
        { input: name, expected, got: t.datatype },
      );
    }
    const shape = t.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      throw bad('INVALID_REQUEST', `${where}.shape must be an array of non-negative integers`, { input: name });
    }
    checkShape(name, shape as number[], sig.inputPlanByName.get(name)!);
    const n = (shape as number[]).reduce((a, d) => a * d, 1);
    if (rows < 0) rows = shape[0] as number;
    else if (shape[0] !== rows) {
      throw new GatewayError(
        'INPUT_SHAPE_MISMATCH',
        `input "${name}" has ${String(shape[0])} rows but an earlier input has ${rows}`,
        { input: name, expected: rows, got: shape[0] },
      );
    }

    const tp = t.parameters;
    if (tp !== undefined && !isObject(tp))
      throw bad('INVALID_REQUEST', `${where}.parameters must be an object`, { input: name });
    const size = tp?.binary_data_size;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0)
        throw bad('INVALID_REQUEST', `input "${name}": binary_data_size must be a non-negative integer`, {
          input: name,
        });
      if (!binary || cursor + (size as number) > binary.byteLength) {
        throw bad(
          'MALFORMED_BODY',
          `input "${name}": binary_data_size ${String(size)} runs past the end of the binary data (${binary ? binary.byteLength - cursor : 0} bytes left)`,
          { input: name },
        );
      }
      feeds[name] = fromBinary(name, expected, binary.subarray(cursor, cursor + (size as number)), n);
      cursor += size as number;
    } else {
      if (t.data === undefined)
        throw bad('INVALID_REQUEST', `input "${name}" has neither "data" nor a binary_data_size parameter`, {
          input: name,
        });
      feeds[name] = fromJson(name, expected, t.data, n);
    }
  }
  if (binary && cursor !== binary.byteLength) {
    throw bad('MALFORMED_BODY', `the body has ${binary.byteLength - cursor} bytes of binary data no input claims`, {
      unclaimed: binary.byteLength - cursor,
    });
  }
  for (const info of sig.inputs) {
    if (feeds[info.name] === undefined)
      throw new GatewayError('MISSING_INPUT', `input "${info.name}" of model "${sig.name}" is missing`, {
        input: info.name,
      });
  }

  const binaryAll = params?.binary_data_output === true;
  let outputs: RequestedOutput[];
  if (header.outputs === undefined) {
    outputs = sig.outputs.map((o) => ({ name: o.name, binary: binaryAll }));
  } else {
    if (!Array.isArray(header.outputs))
      throw bad('INVALID_REQUEST', '"outputs" must be an array', { field: 'outputs' });
    outputs = header.outputs.map((o: unknown, i: number) => {
      if (!isObject(o) || typeof o.name !== 'string')
        throw bad('INVALID_REQUEST', `outputs[${i}] must be {"name": string}`, { field: `outputs[${i}]` });
      if (!sig.outputByName.has(o.name)) {
        throw new GatewayError(
          'UNKNOWN_OUTPUT',
          `"${o.name}" is not an output of model "${sig.name}" (outputs: ${sig.outputs.map((x) => x.name).join(', ')})`,
          { output: o.name },
        );
      }
      const p = o.parameters;
      if (p !== undefined && !isObject(p))
        throw bad('INVALID_REQUEST', `outputs[${i}].parameters must be an object`, { field: `outputs[${i}]` });
      const b = p?.binary_data;
      return { name: o.name, binary: b === undefined ? binaryAll : b === true };
    });
  }
  return { id: id as string | undefined, feeds, rows, outputs, timeoutMs };
}

/**
 * Checks a tensor's shape against its input's plan, here where the message can name the JSON
 * field: [rows, ...static dims] (-1 for the rows when the batch is the row count), [] for a scalar.
 */
function checkShape(name: string, shape: readonly number[], plan: InputPlan): void {
  const want = plan.batch === 'scalar' ? [] : [plan.batch === 'fixed' ? (plan.fixedRows ?? -1) : -1, ...plan.dims];
  const ok = shape.length === want.length && want.every((d, i) => d === -1 || d === shape[i]);
  if (!ok) {
    throw new GatewayError(
      'INPUT_SHAPE_MISMATCH',
      `input "${name}" has shape [${want.join(', ')}] (-1: any), got [${shape.join(', ')}]`,
      { input: name, expected: want, got: shape },
    );
  }
}

function flatten(data: unknown, out: unknown[]): void {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
}

function fromJson(name: string, datatype: string, data: unknown, n: number): Feed {
  const flat: unknown[] = [];
  flatten(data, flat);
  if (flat.length !== n) {
    throw new GatewayError(
      'INPUT_SHAPE_MISMATCH',
      `input "${name}" has ${flat.length} values but its shape holds ${n}`,
      { input: name, expected: n, got: flat.length },
    );
  }
  const wrong = (i: number, what: string) =>
    new GatewayError(
      'INPUT_TYPE_MISMATCH',
      `input "${name}" element ${i} must be ${what}, got ${JSON.stringify(flat[i])}`,
      { input: name, index: i, expected: what },
    );
  switch (datatype) {
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'string') throw wrong(i, 'a string');
        out[i] = v;
      }
      return out;
    }
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') throw wrong(i, 'a number');
        out[i] = v;
      }
      return out;
    }
    case 'INT32': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647)
          throw wrong(i, 'a 32-bit integer');
        out[i] = v;
      }
      return out;
    }
    case 'INT64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw wrong(i, 'an integer within 2^53');
        out[i] = BigInt(v);
      }
      return out;
    }
    default:
      throw new GatewayError('INPUT_TYPE_MISMATCH', `input "${name}": datatype ${datatype} is not supported`, {
        input: name,
        datatype,
      });
  }
}

function fromBinary(name: string, datatype: string, bytes: Uint8Array, n: number): Feed {
  if (datatype === 'BYTES') {
    const out = new Array<string>(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = 0;
    for (let i = 0; i < n; i++) {
      if (at + 4 > bytes.byteLength)
        throw new GatewayError(
          'MALFORMED_BODY',
          `input "${name}": binary BYTES data ends before element ${i} of ${n}`,
          { input: name },
        );
      const len = view.getUint32(at, true);
      at += 4;
      if (at + len > bytes.byteLength)
        throw new GatewayError(
          'MALFORMED_BODY',
          `input "${name}": element ${i} claims ${len} bytes past the end of its data`,
          { input: name },
        );
      out[i] = Buffer.from(bytes.buffer, bytes.byteOffset + at, len).toString('utf8');
      at += len;
    }
    if (at !== bytes.byteLength)
      throw new GatewayError(
        'MALFORMED_BODY',
        `input "${name}": ${bytes.byteLength - at} bytes left over after ${n} elements`,
        { input: name },
      );
    return out;
  }
  const width = ELEMENT_BYTES[datatype];
  if (!width)
    throw new GatewayError('INPUT_TYPE_MISMATCH', `input "${name}": datatype ${datatype} is not supported`, {
      input: name,
      datatype,
    });
  if (bytes.byteLength !== n * width) {
    throw new GatewayError(
      'INPUT_SHAPE_MISMATCH',
      `input "${name}": binary_data_size is ${bytes.byteLength} bytes, its shape needs ${n * width}`,
      { input: name, expected: n * width, got: bytes.byteLength },
    );
  }
  // A fresh, aligned buffer per tensor: the body's memory is not ours to keep, nor aligned.
  const copy = new ArrayBuffer(n * width);
  new Uint8Array(copy).set(bytes);
  switch (datatype) {
    case 'FP32':
      return new Float32Array(copy);
    case 'FP64':
      return new Float64Array(copy);
    case 'INT32':
      return new Int32Array(copy);
    case 'INT64':
      return new BigInt64Array(copy);
    default:
      throw new GatewayError('INPUT_TYPE_MISMATCH', `input "${name}": datatype ${datatype} is not supported`, {
        input: name,
        datatype,
      });
  }
}

export interface EncodedResponse {
  readonly contentType: string;
  readonly body: string | Uint8Array;
  /** Set when binary outputs follow the JSON header. */
  readonly headerLength: number | undefined;
}

/** Renders the inference response: JSON tensors, or a JSON header followed by binary tensors. */
export function encodeInferResponse(
  modelName: string,
  modelVersion: string,
  id: string | undefined,
  requested: readonly RequestedOutput[],
  outputs: Record<string, Output>,
  sig: Signature,
): EncodedResponse {
  const parts: Uint8Array[] = [];
  const out = requested.map((r) => {
    const o = outputs[r.name];
    if (!o) throw new GatewayError('INTERNAL', `the model returned no output "${r.name}"`);
    const datatype = oipDatatype((o as { type?: string }).type ?? sig.outputByName.get(r.name)!.type);
    const shape = [...o.shape];
    if (r.binary) {
      const bytes = toBinary(o.data);
      parts.push(bytes);
      return { name: r.name, datatype, shape, parameters: { binary_data_size: bytes.byteLength } };
    }
    return { name: r.name, datatype, shape, data: toJsonData(o.data) };
  });
  const header = JSON.stringify(
    id === undefined
      ? { model_name: modelName, model_version: modelVersion, outputs: out }
      : { model_name: modelName, model_version: modelVersion, id, outputs: out },
  );
  if (parts.length === 0) return { contentType: 'application/json', body: header, headerLength: undefined };
  const head = Buffer.from(header, 'utf8');
  return {
    contentType: 'application/octet-stream',
    body: Buffer.concat([head, ...parts]),
    headerLength: head.byteLength,
  };
}

function toJsonData(data: Output['data']): unknown[] {
  if (Array.isArray(data)) return data;
  if (data instanceof BigInt64Array || (typeof BigUint64Array !== 'undefined' && data instanceof BigUint64Array)) {
    const out = new Array<number>(data.length);
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
    return out;
  }
  return Array.from(data as ArrayLike<number>);
}

function toBinary(data: Output['data']): Uint8Array {
  if (Array.isArray(data)) {
    const encoded = (data as unknown[]).map((s) => Buffer.from(String(s), 'utf8'));
    const out = Buffer.allocUnsafe(encoded.reduce((a, b) => a + 4 + b.byteLength, 0));
    let at = 0;
    for (const b of encoded) {
      out.writeUInt32LE(b.byteLength, at);
      b.copy(out, at + 4);
      at += 4 + b.byteLength;
    }
    return out;
  }
  // Typed arrays are little-endian on every platform the native addon ships for.
  const t = data as unknown as ArrayBufferView;
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}
