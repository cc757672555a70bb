// A Parquet file as a table sink, through hyparquet-writer: rows are buffered to row groups of
// `groupRows` (so that readers get groups worth skipping and decoding in parallel, and memory
// stays bounded), each written as it fills, Snappy-compressed, with statistics; every column is
// OPTIONAL (a risk category may be absent, an input cell null).
import { fileWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnType, TableSink } from './table.js';
import { unwritable } from './types.js';

export const PARQUET_GROUP_ROWS = 65_536;

type Element = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

function elementOf(name: string, type: ColumnType): Element {
  if (type === 'string') return { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
  if (type === 'double') return { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' };
  if (type === 'int64') return { name, type: 'INT64', repetition_type: 'OPTIONAL' };
  const { like } = type;
  return {
    name,
    repetition_type: 'OPTIONAL',
    ...(like.type !== undefined ? { type: like.type } : {}),
    ...(like.type_length !== undefined ? { type_length: like.type_length } : {}),
    ...(like.converted_type !== undefined ? { converted_type: like.converted_type } : {}),
    ...(like.logical_type !== undefined ? { logical_type: like.logical_type } : {}),
    ...(like.scale !== undefined ? { scale: like.scale } : {}),
    ...(like.precision !== undefined ? { precision: like.precision } : {}),
  } as Element;
}

export function openParquetSink(
  path: string,
  names: readonly string[],
  types: readonly ColumnType[],
  groupRows = PARQUET_GROUP_ROWS,
): TableSink {
  const schema: Element[] = [
    { name: 'root', num_children: names.length },
    ...names.map((n, i) => elementOf(n, types[i]!)),
  ];
  let writer: ParquetWriter;
  try {
    writer = new ParquetWriter({ writer: fileWriter(path), schema, createdBy: 'ortline score' });
  } catch (err) {
    throw unwritable(err as Error);
  }
  let buffered: unknown[][] = names.map(() => []);
  const flush = (): void => {
    const rows = buffered[0]!.length;
    if (rows === 0) return;
    const columnData = names.map((name, i) => ({ name, data: buffered[i]! }));
    buffered = names.map(() => []);
    try {
      writer.write({ columnData, rowGroupSize: rows });
    } catch (err) {
      throw unwritable(err as Error);
    }
  };
  return {
    async append(columns) {
      for (let c = 0; c < names.length; c++) {
        const to = buffered[c]!;
        for (const v of columns[c]!) to.push(v ?? null);
      }
      if (buffered[0]!.length >= groupRows) flush();
    },
    async close() {
      flush();
      try {
        writer.finish();
      } catch (err) {
        throw unwritable(err as Error);
      }
    },
    destroy() {
      buffered = [];
    },
  };
}
