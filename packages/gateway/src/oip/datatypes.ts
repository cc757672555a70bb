// Open Inference Protocol datatypes <-> the scorer's element types.

export type OipDatatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BYTES';

const TO_OIP: Record<string, OipDatatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};

export function oipDatatype(elementType: string): OipDatatype {
  return TO_OIP[elementType] ?? (elementType.toUpperCase() as OipDatatype);
}

/** Bytes per element in the binary tensor extension; 0 for BYTES (length-prefixed). */
export const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
  BYTES: 0,
};

/** OIP shape of a tensor: dynamic dimensions as -1. */
export function oipShape(shape: readonly (number | null)[]): number[] {
  return shape.map((d) => (d === null || d === undefined || d < 0 ? -1 : d));
}
