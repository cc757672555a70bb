// A CSV file as a row source, read as it streams (1 MiB at a time). While the file has no
// quote, rows are cut from the bytes themselves (a line feed ends a row, a comma a cell, a CR
// before the line feed belongs to the line end) and the schema reads the cells from their bytes
// (FeatureSchema.writeBytes): no string per cell. From the first block that holds a quote on, the
// rest of the file is decoded and cut by CsvReader (RFC 4180: quoted commas, quotes and line
// breaks), whose records the schema reads as text. Both give the same rows, lines and cells.
import { createReadStream, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Columns, FeatureIssue, FeatureSchema } from '@ortline/scorer';
import { CsvReader, type CsvRecord } from './csv-reader.js';
import type { RowBlock, RowIssue, RowSource } from './table.js';
import { ScoreFileError } from './types.js';

const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const EMPTY = Buffer.alloc(0);

export interface CsvSourceOptions {
  /** Decode every row and cut it with CsvReader (the path for quoted files), e.g. to compare the two. */
  readonly asText?: boolean;
}

export async function openCsv(path: string, schema: FeatureSchema, options: CsvSourceOptions = {}): Promise<RowSource> {
  let bytesTotal: number;
  try {
    bytesTotal = statSync(path).size;
  } catch (err) {
    throw new ScoreFileError('UNREADABLE_INPUT', `cannot read the input: ${(err as Error).message}`);
  }
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let bytesRead = 0;
  let eof = false;
  /** Bytes read and not yet handed out (byte mode): whole rows, then maybe the start of one. */
  let held: Buffer = EMPTY;
  /** The line the first held byte is on. */
  let line = 1;
  /** Text mode, once a quote was seen (or asked for). */
  let text: { decoder: StringDecoder; reader: CsvReader; pending: CsvRecord[]; ended: boolean } | undefined;

  const read = async (): Promise<Buffer | null> => {
    const { value, done } = await chunks.next();
    if (done) {
      eof = true;
      return null;
    }
    bytesRead += value.length;
    return value;
  };

  /** From here on, text: what is held is decoded first, from its line. */
  const toText = (): void => {
    const decoder = new StringDecoder('utf8');
    const reader = new CsvReader(line === 1 ? undefined : { line });
    text = { decoder, reader, pending: reader.push(decoder.write(held)), ended: false };
    held = EMPTY;
  };

  /** Text mode: reads until `want` records are pending or the file ended. */
  const fillText = async (want: number): Promise<CsvRecord[]> => {
    const t = text!;
    while (t.pending.length < want && !t.ended) {
      const chunk = eof ? null : await read();
      if (chunk) for (const r of t.reader.push(t.decoder.write(chunk))) t.pending.push(r);
      else {
        t.pending.push(...t.reader.push(t.decoder.end()), ...t.reader.end());
        t.ended = true;
      }
    }
    return t.pending;
  };

  /** Byte mode: reads until `rows` line feeds are held past `from`, or the file ended. */
  const fillBytes = async (rows: number): Promise<void> => {
    let counted = 0;
    let at = 0;
    for (;;) {
      for (let i = held.indexOf(LF, at); i >= 0 && counted < rows; i = held.indexOf(LF, at)) {
        counted++;
        at = i + 1;
      }
      if (counted >= rows || eof) return;
      const chunk = await read();
      if (chunk) held = held.length === 0 ? chunk : Buffer.concat([held, chunk]);
    }
  };

  let header: string[];
  try {
    header = options.asText ? await textHeader() : await readHeader();
  } catch (err) {
    input.destroy();
    throw err;
  }
  const width = header.length;

  /** The header from CsvReader, which then reads the rest too. */
  async function textHeader(): Promise<string[]> {
    toText();
    const first = (await fillText(1)).shift();
    if (!first) throw new ScoreFileError('EMPTY_INPUT', 'the input has no header row');
    return first.fields;
  }

  /** The header from the bytes, or (a quote in it) from CsvReader, which then reads the rest too. */
  async function readHeader(): Promise<string[]> {
    for (;;) {
      await fillBytes(1);
      let start = 0;
      if (line === 1 && held[0] === 0xef && held[1] === 0xbb && held[2] === 0xbf) start = 3;
      const lf = held.indexOf(LF, start);
      const end = lf < 0 ? held.length : lf;
      const bytes = held.subarray(start, end > start && held[end - 1] === CR ? end - 1 : end);
      if (bytes.indexOf(QUOTE) >= 0) return textHeader();
      if (bytes.length === 0 && lf < 0) throw new ScoreFileError('EMPTY_INPUT', 'the input has no header row');
      held = lf < 0 ? EMPTY : held.subarray(lf + 1);
      line++;
      // A blank line before the header separates nothing, as CsvReader skips it.
      if (bytes.length > 0) return bytes.toString('utf8').split(',');
    }
  }

  const source: RowSource = {
    header,
    positionName: 'reject_line',
    bytesTotal,
    bytesRead: () => bytesRead,
    typeOf: () => 'string',
    checkFeature: () => {},
    async next(max) {
      if (!text) {
        await fillBytes(max);
        if (held.length === 0) return null;
        // Up to `max` rows' bytes, without copying them; the rest stays held.
        let end = 0;
        for (let n = 0; n < max; n++) {
          const i = held.indexOf(LF, end);
          if (i < 0) {
            end = eof ? held.length : end;
            break;
          }
          end = i + 1;
        }
        const bytes = held.subarray(0, end);
        if (bytes.indexOf(QUOTE) < 0) {
          held = held.subarray(end);
          const block = byteBlock(bytes, line, width, schema);
          line = block.nextLine;
          if (block.size > 0) return block;
          return source.next(max); // only blank lines
        }
        toText();
      }
      const pending = await fillText(max);
      if (pending.length === 0) return null;
      return textBlock(pending.splice(0, max), width, schema);
    },
    close() {
      held = EMPTY;
      if (text) text.pending = [];
      input.destroy();
    },
  };
  return source;
}

function fieldCount(n: number, width: number): RowIssue | undefined {
  return n === width
    ? undefined
    : { field: '(row)', code: 'field_count', message: `${n} fields where the header has ${width}` };
}

/** Records CsvReader cut from text. */
function textBlock(records: CsvRecord[], width: number, schema: FeatureSchema): RowBlock {
  return {
    size: records.length,
    unreadable: (k) => fieldCount(records[k]!.fields.length, width),
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

/**
 * Rows cut from bytes with no quote in them: per row, its line and its field count, and the
 * byte range of each of its first `width` cells.
 */
function byteBlock(
  bytes: Buffer,
  firstLine: number,
  width: number,
  schema: FeatureSchema,
): RowBlock & { nextLine: number } {
  const lines: number[] = [];
  const counts: number[] = [];
  let starts = new Int32Array(1024 * width);
  let ends = new Int32Array(1024 * width);
  let line = firstLine;
  let at = 0;
  const n = bytes.length;
  while (at < n) {
    let lf = bytes.indexOf(LF, at);
    if (lf < 0) lf = n;
    const end = lf > at && bytes[lf - 1] === CR ? lf - 1 : lf;
    // A blank line (one empty field) separates nothing.
    if (end > at) {
      const row = lines.length;
      if ((row + 1) * width > starts.length) {
        const grown = new Int32Array(starts.length * 2);
        grown.set(starts);
        starts = grown;
        const grownEnds = new Int32Array(ends.length * 2);
        grownEnds.set(ends);
        ends = grownEnds;
      }
      const base = row * width;
      let field = 0;
      let from = at;
      // Cells are short: a loop over the bytes beats a native search per comma.
      for (let i = at; i < end; i++) {
        if (bytes[i] !== COMMA) continue;
        if (field < width) {
          starts[base + field] = from;
          ends[base + field] = i;
        }
        field++;
        from = i + 1;
      }
      if (field < width) {
        starts[base + field] = from;
        ends[base + field] = end;
      }
      field++;
      lines.push(line);
      counts.push(field);
    }
    line++;
    at = lf + 1;
  }
  const decode = (i: number) => bytes.toString('utf8', starts[i]!, ends[i]!);
  return {
    size: lines.length,
    nextLine: line,
    unreadable: (k) => fieldCount(counts[k]!, width),
    write(cellOf: Int32Array, rows: readonly number[], cols: Columns, issues: FeatureIssue[]) {
      schema.writeBytes(bytes, starts, ends, width, cellOf, rows, cols, 0, issues);
    },
    id: (k, at) => (at < counts[k]! ? decode(k * width + at).trim() : ''),
    value: (k, at) => (at < counts[k]! ? decode(k * width + at) : ''),
    position: (k) => lines[k]!,
  };
}
