// A Parquet file as a row source, through hyparquet (pure JavaScript, with hyparquet-compressors
// for the codecs beyond Snappy: ZSTD, GZIP, Brotli, LZ4). One row group is decoded at a time, and
// handed out in blocks: memory is bounded by the largest row group, whatever the file's size.
// Values arrive typed (64-bit integers as bigints, strings, doubles, null), so the schema takes
// them as it takes JSON's; a column whose type cannot feed its feature fails the file before any
// row is read. Top-level primitive columns are read; nested ones (structs, lists) are not.
import type { Columns, FeatureIssue, FeatureSchema } from '@ortline/scorer';
import {
  asyncBufferFromFile,
  type FileMetaData,
  parquetMetadataAsync,
  parquetRead,
  type SchemaElement,
} from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { ParquetColumn, RowBlock, RowSource } from './table.js';
import { ScoreFileError } from './types.js';

const NUMERIC = new Set(['INT32', 'INT64', 'FLOAT', 'DOUBLE']);
/** Annotations under which a number column decodes to something else (a Date, a time). */
const NOT_A_NUMBER = /^(DATE|TIME|TIMESTAMP|INTERVAL)/;

function describe(e: SchemaElement): string {
  const note = e.logical_type?.type ?? e.converted_type;
  return note ? `${e.type} (${note})` : String(e.type);
}

function feeds(e: SchemaElement, kind: 'numeric' | 'categorical'): boolean {
  const note = String(e.logical_type?.type ?? e.converted_type ?? '');
  if (kind === 'numeric') return (NUMERIC.has(String(e.type)) || note === 'DECIMAL') && !NOT_A_NUMBER.test(note);
  return e.type === 'BYTE_ARRAY' && (note === '' || note === 'UTF8' || note === 'STRING' || note === 'ENUM');
}

function malformed(err: unknown): ScoreFileError {
  return new ScoreFileError('MALFORMED_PARQUET', `not a readable Parquet file: ${(err as Error).message}`);
}

export async function openParquet(path: string, schema: FeatureSchema): Promise<RowSource> {
  let file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  try {
    file = await asyncBufferFromFile(path);
  } catch (err) {
    throw new ScoreFileError('UNREADABLE_INPUT', `cannot read the input: ${(err as Error).message}`);
  }
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (err) {
    throw malformed(err);
  }
  // The root's children: flat ones (no children of their own, not repeated) are the columns.
  const columns: SchemaElement[] = [];
  for (let i = 1; i < metadata.schema.length; i++) {
    const e = metadata.schema[i]!;
    if (e.num_children) {
      i += countDescendants(metadata.schema, i);
      continue;
    }
    if (e.repetition_type !== 'REPEATED') columns.push(e);
  }
  const header = columns.map((c) => c.name);
  const groups = metadata.row_groups.map((g) => Number(g.num_rows));
  const numRows = Number(metadata.num_rows);
  let group = -1;
  let groupStart = 0;
  let groupData: ArrayLike<unknown>[] = [];
  let at = 0; // next row of the current group
  let rowsRead = 0;

  const load = async (g: number): Promise<void> => {
    // Groups are read in order: this one starts where the last one ended.
    const start = group < 0 ? 0 : groupStart + groups[group]!;
    const rows = groups[g]!;
    const pieces = header.map(() => [] as { rowStart: number; data: ArrayLike<unknown> }[]);
    const index = new Map(header.map((h, i) => [h, i]));
    try {
      await parquetRead({
        file,
        metadata,
        columns: header,
        rowStart: start,
        rowEnd: start + rows,
        compressors,
        onChunk: ({ columnName, columnData, rowStart }) => {
          const i = index.get(columnName);
          if (i !== undefined) pieces[i]!.push({ rowStart, data: columnData });
        },
      });
    } catch (err) {
      throw malformed(err);
    }
    groupData = pieces.map((p, i) => assemble(p, start, rows, header[i]!));
    group = g;
    groupStart = start;
    at = 0;
  };

  return {
    header,
    positionName: 'reject_row',
    bytesTotal: file.byteLength,
    bytesRead: () => (numRows === 0 ? file.byteLength : Math.round((file.byteLength * rowsRead) / numRows)),
    typeOf: (i) => ({ like: columns[i] as ParquetColumn }),
    checkFeature(i, feature, kind) {
      const e = columns[i]!;
      if (!feeds(e, kind))
        throw new ScoreFileError(
          'COLUMN_TYPE',
          `column "${e.name}" is ${describe(e)}, but feature ${feature} takes ${kind === 'numeric' ? 'numbers' : 'text'}`,
        );
    },
    async next(max) {
      while (group < 0 || at >= groups[group]!) {
        if (group + 1 >= groups.length) return null;
        await load(group + 1);
      }
      const from = at;
      const size = Math.min(max, groups[group]! - from);
      at += size;
      rowsRead += size;
      const data = groupData;
      const first = groupStart + from;
      return parquetBlock(data, from, size, first, schema);
    },
    close() {
      groupData = [];
    },
  };
}

/** How many elements below schema[i] (its children, theirs, ...). */
function countDescendants(schema: readonly SchemaElement[], i: number): number {
  let left = schema[i]!.num_children ?? 0;
  let n = 0;
  while (left > 0) {
    n++;
    left += (schema[i + n]!.num_children ?? 0) - 1;
  }
  return n;
}

/** One column of a row group from its decoded chunks (usually one, covering the group exactly). */
function assemble(
  pieces: readonly { rowStart: number; data: ArrayLike<unknown> }[],
  start: number,
  rows: number,
  name: string,
): ArrayLike<unknown> {
  const only = pieces[0];
  if (pieces.length === 1 && only!.rowStart === start && only!.data.length === rows) return only!.data;
  const out: unknown[] = new Array(rows).fill(null);
  let filled = 0;
  for (const { rowStart, data } of pieces) {
    for (let j = 0; j < data.length; j++) {
      const r = rowStart - start + j;
      if (r >= 0 && r < rows) {
        out[r] = data[j];
        filled++;
      }
    }
  }
  if (filled < rows) throw malformed(new Error(`column ${name} has ${filled} of the row group's ${rows} values`));
  return out;
}

function parquetBlock(
  data: readonly ArrayLike<unknown>[],
  from: number,
  size: number,
  first: number,
  schema: FeatureSchema,
): RowBlock {
  return {
    size,
    unreadable: () => undefined,
    write(cellOf: Int32Array, rows: readonly number[], cols: Columns, issues: FeatureIssue[]) {
      const sources = Array.from(cellOf, (c) => (c < 0 ? null : data[c]!));
      schema.writeColumns(
        sources,
        rows.map((k) => from + k),
        cols,
        0,
        issues,
      );
    },
    id: (k, at) => data[at]![from + k] ?? null,
    value: (k, at) => data[at]![from + k] ?? null,
    position: (k) => first + k + 1,
  };
}
