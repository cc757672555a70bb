// A CSV file as a row source: read as it streams (1 MiB at a time), cut into records by
// CsvReader, handed out in blocks. Cells are text; the schema reads numbers from them.
import { createReadStream, statSync } from 'node:fs';
import type { Columns, FeatureIssue, FeatureSchema } from '@ortline/scorer';
import { CsvReader, type CsvRecord } from './csv-reader.js';
import type { RowBlock, RowIssue, RowSource } from './table.js';
import { ScoreFileError } from './types.js';

export async function openCsv(path: string, schema: FeatureSchema): Promise<RowSource> {
  let bytesTotal: number;
  try {
    bytesTotal = statSync(path).size;
  } catch (err) {
    throw new ScoreFileError('UNREADABLE_INPUT', `cannot read the input: ${(err as Error).message}`);
  }
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<string>;
  const reader = new CsvReader();
  let pending: CsvRecord[] = [];
  let ended = false;
  let bytesRead = 0;

  /** Reads until `want` records are pending or the file ended. */
  const fill = async (want: number): Promise<void> => {
    while (!ended && pending.length < want) {
      const { value, done } = await chunks.next();
      if (done) {
        ended = true;
        pending.push(...reader.end());
      } else {
        bytesRead += Buffer.byteLength(value);
        for (const r of reader.push(value)) pending.push(r);
      }
    }
  };

  try {
    await fill(1);
  } catch (err) {
    input.destroy();
    throw err;
  }
  const first = pending.shift();
  if (!first) {
    input.destroy();
    throw new ScoreFileError('EMPTY_INPUT', 'the input has no header row');
  }
  const header = first.fields;
  const width = header.length;

  return {
    header,
    positionName: 'reject_line',
    bytesTotal,
    bytesRead: () => bytesRead,
    typeOf: () => 'string',
    checkFeature: () => {},
    async next(max) {
      await fill(max);
      if (pending.length === 0) return null;
      return csvBlock(pending.splice(0, max), width, schema);
    },
    close() {
      pending = [];
      input.destroy();
    },
  };
}

function csvBlock(records: CsvRecord[], width: number, schema: FeatureSchema): RowBlock {
  return {
    size: records.length,
    unreadable(k): RowIssue | undefined {
      const n = records[k]!.fields.length;
      return n === width
        ? undefined
        : { field: '(row)', code: 'field_count', message: `${n} fields where the header has ${width}` };
    },
    write(cellOf: Int32Array, rows: readonly number[], cols: Columns, issues: FeatureIssue[]) {
      schema.writeText(
        rows.map((k) => records[k]!.fields),
        cellOf,
        cols,
        0,
        issues,
      );
    },
    id: (k, at) => (records[k]!.fields[at] ?? '').trim(),
    value: (k, at) => records[k]!.fields[at] ?? '',
    position: (k) => records[k]!.line,
  };
}
