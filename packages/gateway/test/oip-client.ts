// A minimal Open Inference Protocol v2 REST client, written from the KServe/Triton specification
// (inference request/response JSON and the binary tensor data extension), independent of the
// gateway's own code: what an unmodified Triton or KServe client sends and expects.

export type Datatype = 'FP32' | 'FP64' | 'INT32' | 'INT64' | 'BYTES';

export interface TensorIn {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: number[] | string[];
}

export interface TensorOut {
  name: string;
  datatype: string;
  shape: number[];
  data: number[] | string[];
}

export interface InferResult {
  status: number;
  headers: Headers;
  /** The parsed JSON (or JSON header), with binary outputs decoded into `data`. */
  body: {
    model_name?: string;
    model_version?: string;
    id?: string;
    outputs?: TensorOut[];
    error?: { code: string; message: string };
  };
}

/** Plain JSON tensors. */
export async function inferJson(base: string, path: string, request: Record<string, unknown>): Promise<InferResult> {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(request),
  });
  return parseResponse(r);
}

function encodeTensor(t: TensorIn): Buffer {
  switch (t.datatype) {
    case 'FP32':
      return Buffer.from(Float32Array.from(t.data as number[]).buffer);
    case 'FP64':
      return Buffer.from(Float64Array.from(t.data as number[]).buffer);
    case 'INT32':
      return Buffer.from(Int32Array.from(t.data as number[]).buffer);
    case 'INT64':
      return Buffer.from(BigInt64Array.from((t.data as number[]).map((x) => BigInt(x))).buffer);
    case 'BYTES': {
      // Each element: 4-byte little-endian length, then the bytes.
      const parts = (t.data as string[]).flatMap((s) => {
        const b = Buffer.from(s, 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(b.length);
        return [len, b];
      });
      return Buffer.concat(parts);
    }
  }
}

/**
 * The binary tensor data extension: every input as binary data after the JSON header, whose
 * length goes in Inference-Header-Content-Length.
 */
export async function inferBinary(
  base: string,
  path: string,
  inputs: TensorIn[],
  options: { id?: string; outputs?: { name: string; binary: boolean }[]; binaryOutput?: boolean } = {},
): Promise<InferResult> {
  const blobs = inputs.map(encodeTensor);
  const header: Record<string, unknown> = {
    inputs: inputs.map((t, i) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: { binary_data_size: blobs[i]!.length },
    })),
  };
  if (options.id !== undefined) header.id = options.id;
  if (options.binaryOutput !== undefined) header.parameters = { binary_data_output: options.binaryOutput };
  if (options.outputs)
    header.outputs = options.outputs.map((o) => ({ name: o.name, parameters: { binary_data: o.binary } }));
  const json = Buffer.from(JSON.stringify(header));
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(json.length) },
    body: Buffer.concat([json, ...blobs]),
  });
  return parseResponse(r);
}

async function parseResponse(r: Response): Promise<InferResult> {
  const bytes = Buffer.from(await r.arrayBuffer());
  const hl = r.headers.get('inference-header-content-length');
  const headerLen = hl === null ? bytes.length : Number(hl);
  const body = JSON.parse(bytes.subarray(0, headerLen).toString('utf8'));
  let at = headerLen;
  for (const o of (body.outputs ?? []) as (TensorOut & { parameters?: { binary_data_size?: number } })[]) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) continue;
    const raw = bytes.subarray(at, at + size);
    at += size;
    o.data = decodeTensor(o.datatype, raw);
  }
  if (at !== bytes.length) throw new Error(`response has ${bytes.length - at} unclaimed bytes`);
  return { status: r.status, headers: r.headers, body };
}

function decodeTensor(datatype: string, raw: Buffer): number[] | string[] {
  const copy = new Uint8Array(raw).buffer;
  switch (datatype) {
    case 'FP32':
      return Array.from(new Float32Array(copy));
    case 'FP64':
      return Array.from(new Float64Array(copy));
    case 'INT32':
      return Array.from(new Int32Array(copy));
    case 'INT64':
      return Array.from(new BigInt64Array(copy), (x) => Number(x));
    case 'BYTES': {
      const out: string[] = [];
      for (let i = 0; i < raw.length; ) {
        const n = raw.readUInt32LE(i);
        out.push(raw.subarray(i + 4, i + 4 + n).toString('utf8'));
        i += 4 + n;
      }
      return out;
    }
    default:
      throw new Error(`datatype ${datatype} not handled by the test client`);
  }
}

/** Records -> one [N, 1] tensor per model input, typed from the model metadata. */
export function recordsToTensors(
  records: Record<string, unknown>[],
  metadata: { inputs: { name: string; datatype: string }[] },
): TensorIn[] {
  return metadata.inputs.map((input) => ({
    name: input.name,
    datatype: input.datatype as Datatype,
    shape: [records.length, 1],
    data: records.map((r) => {
      const v = r[input.name];
      return v === null || v === undefined ? NaN : v;
    }) as number[] | string[],
  }));
}
