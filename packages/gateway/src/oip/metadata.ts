// Open Inference Protocol model metadata (GET /v2/models/{name}[/versions/{v}]), rendered once
// per model version at load: the answer to a metadata request is a constant string.
import type { TensorInfo } from '@ortline/scorer';
import { oipDatatype, oipShape } from './datatypes.js';

interface Signature {
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
}

const tensor = (t: TensorInfo) => ({ name: t.name, datatype: oipDatatype(t.type), shape: oipShape(t.shape) });

/** The metadata of a model: `versions` lists what it names, the signature is `signature`'s. */
export function oipMetadataJson(name: string, versions: readonly string[], signature: Signature): string {
  return JSON.stringify({
    name,
    versions,
    platform: 'onnxruntime_onnx',
    inputs: signature.inputs.map(tensor),
    outputs: signature.outputs.map(tensor),
  });
}
