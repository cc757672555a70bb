// Scoring a whole file with one model version: CSV in, read as it streams, scored in batches by
// the same Batcher, schema and answer fields as the gateway; CSV out in input order (the id
// column, then the answer's fields), and every row that could not be scored in a reject file with
// its field errors. Memory stays bounded by the batch size whatever the file's size: at most two
// batches are in flight (one running, one being read), and reading waits for the writes.
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { Columns, FeatureIssue, FeatureSchema } from '@ortline/scorer';
import { CsvReader, type CsvRecord } from './csv-reader.js';
import { csvLine } from './csv-writer.js';
import type { BulkModel } from './model.js';
import {
  DEFAULT_BATCH_ROWS,
  ScoreFileError,
  type ScoreFileOptions,
  type ScoreProgress,
  type ScoreSummary,
} from './types.js';

/** `scored.csv` -> `scored.rejects.csv`. */
export function defaultRejectsPath(output: string): string {
  const dot = output.lastIndexOf('.');
  const slash = output.lastIndexOf('/');
  return dot > slash + 1 ? `${output.slice(0, dot)}.rejects${output.slice(dot)}` : `${output}.rejects.csv`;
}

/** Which input column feeds what: features by name, the id, the rest ignored. */
interface Layout {
  readonly header: readonly string[];
  /** Per schema feature, in the schema's order: its column, or -1 (missing in every row). */
  readonly cellOf: Int32Array;
  readonly idAt: number;
  readonly ignored: readonly string[];
}

function layoutOf(header: readonly string[], schema: FeatureSchema, idFields: readonly string[]): Layout {
  const at = new Map(header.map((h, i) => [h, i]));
  if (at.size !== header.length) {
    const dup = header.find((h, i) => header.indexOf(h) !== i);
    throw new ScoreFileError('DUPLICATE_COLUMN', `the header names column "${dup}" twice`);
  }
  const missing = schema.features.filter((f) => f.required && f.default === undefined && !at.has(f.name));
  if (missing.length > 0)
    throw new ScoreFileError(
      'MISSING_COLUMNS',
      `the header lacks the required feature column(s) ${missing.map((f) => f.name).join(', ')}`,
    );
  const cellOf = Int32Array.from(schema.features, (f) => at.get(f.name) ?? -1);
  const id = idFields.find((f) => at.has(f));
  const used = new Set([...schema.features.map((f) => f.name), ...(id ? [id] : [])]);
  return { header, cellOf, idAt: id ? at.get(id)! : -1, ignored: header.filter((h) => !used.has(h)) };
}

/**
 * Why a row was not scored: a field of it (or `(row)`), the schema's stable code (or
 * `field_count`), and the message the HTTP API would give.
 */
interface RowIssue {
  readonly field: string;
  readonly code: string;
  readonly message: string;
}

interface Batch {
  readonly rows: CsvRecord[];
  /** Per row: why it was rejected, or undefined (scored). */
  readonly issues: (RowIssue[] | undefined)[];
  readonly scores: Promise<Float64Array>;
  /** Index into scores per row, -1 for a rejected row. */
  readonly slot: Int32Array;
}

export async function scoreFile(model: BulkModel, options: ScoreFileOptions): Promise<ScoreSummary> {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1)
    throw new ScoreFileError('INVALID_OPTION', `batch rows must be a positive integer, not ${batchRows}`);
  const rejectsPath = options.rejects ?? defaultRejectsPath(options.output);
  const paths = [options.input, options.output, rejectsPath].map((p) => resolve(p));
  if (new Set(paths).size !== 3)
    throw new ScoreFileError('SAME_FILE', 'the input, the output and the reject file must be three different files');
  const started = performance.now();
  let bytesTotal = 0;
  try {
    bytesTotal = statSync(options.input).size;
  } catch (err) {
    throw new ScoreFileError('UNREADABLE_INPUT', `cannot read ${options.input}: ${(err as Error).message}`);
  }
  const input = createReadStream(options.input, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const out = createWriteStream(options.output);
  const rejects = createWriteStream(rejectsPath);
  const reader = new CsvReader();
  let layout: Layout | undefined;
  let pending: CsvRecord[] = [];
  const inFlight: Batch[] = [];
  let rows = 0;
  let scored = 0;
  let rejected = 0;
  let bytesRead = 0;
  let dataRow = 0;

  const progress = (): ScoreProgress => ({
    rows,
    scored,
    rejected,
    bytesRead,
    bytesTotal,
    seconds: (performance.now() - started) / 1000,
  });

  // A full batch's columns are reused: the Batcher copies them before scoreColumns returns.
  let full: Columns | undefined;
  const columnsFor = (n: number): Columns => {
    if (n !== batchRows) return model.schema.allocate(n);
    if (!full) full = model.schema.allocate(batchRows);
    return full;
  };

  const submit = (batch: CsvRecord[]): Batch => {
    const l = layout!;
    const issues: (RowIssue[] | undefined)[] = new Array(batch.length);
    const slot = new Int32Array(batch.length).fill(-1);
    const width = l.header.length;
    let cells: (readonly string[])[] = [];
    let from: number[] = [];
    batch.forEach((row, k) => {
      if (row.fields.length === width) {
        cells.push(row.fields);
        from.push(k);
      } else {
        const message = `${row.fields.length} fields where the header has ${width}`;
        issues[k] = [{ field: '(row)', code: 'field_count', message }];
      }
    });
    let cols = columnsFor(cells.length);
    const found: FeatureIssue[] = [];
    model.schema.writeText(cells, l.cellOf, cols, 0, found);
    if (found.length > 0) {
      // Only a batch with a bad row pays for a second pass, over its good rows.
      const bad = new Set<number>();
      for (const x of found) {
        bad.add(x.row);
        const k = from[x.row]!;
        const list = issues[k] ?? [];
        list.push({ field: x.field, code: x.code, message: x.message.replace(/^row \d+: /, '') });
        issues[k] = list;
      }
      cells = cells.filter((_, j) => !bad.has(j));
      from = from.filter((_, j) => !bad.has(j));
      cols = columnsFor(cells.length);
      model.schema.writeText(cells, l.cellOf, cols, 0, []);
    }
    from.forEach((k, j) => {
      slot[k] = j;
    });
    const scores =
      from.length > 0 ? model.batcher.scoreColumns(cols, from.length) : Promise.resolve(new Float64Array(0));
    // The rejection is handled where the batch is written; until then it must not count as unhandled.
    scores.catch(() => {});
    return { rows: batch, issues, scores, slot };
  };

  const write = async (batch: Batch): Promise<void> => {
    const scores = await batch.scores;
    const l = layout!;
    let text = '';
    let bad = '';
    for (let k = 0; k < batch.rows.length; k++) {
      const row = batch.rows[k]!;
      dataRow++;
      const j = batch.slot[k]!;
      if (j < 0) {
        rejected++;
        bad += csvLine([...padTo(row.fields, l.header.length), String(row.line), JSON.stringify(batch.issues[k])]);
        continue;
      }
      scored++;
      const p = scores[j]!;
      const id = l.idAt >= 0 ? row.fields[l.idAt]!.trim() : String(dataRow);
      text += csvLine([id, String(p), model.answers.category(p) ?? '', model.answers.version]);
    }
    rows += batch.rows.length;
    await Promise.all([put(out, text), put(rejects, bad)]);
    options.onProgress?.(progress());
  };

  const flush = async (final: boolean): Promise<void> => {
    while (pending.length >= batchRows || (final && pending.length > 0)) {
      inFlight.push(submit(pending.splice(0, batchRows)));
      if (inFlight.length >= 2) await write(inFlight.shift()!);
    }
  };

  const start = (header: readonly string[]): void => {
    layout = layoutOf(header, model.schema, model.answers.idFields);
    const idName = layout.idAt >= 0 ? header[layout.idAt]! : 'row';
    const f = model.answers.fields;
    out.write(csvLine([idName, f.probability, f.risk, 'model_version']));
    rejects.write(csvLine([...header, 'reject_line', 'reject_errors']));
  };

  const take = (records: CsvRecord[]): void => {
    let from = 0;
    if (!layout && records.length > 0) {
      start(records[0]!.fields);
      from = 1;
    }
    for (let i = from; i < records.length; i++) pending.push(records[i]!);
  };

  try {
    for await (const chunk of input) {
      bytesRead += Buffer.byteLength(chunk as string);
      take(reader.push(chunk as string));
      await flush(false);
    }
    take(reader.end());
    if (!layout) throw new ScoreFileError('EMPTY_INPUT', `${options.input} has no header row`);
    await flush(true);
    while (inFlight.length > 0) await write(inFlight.shift()!);
  } catch (err) {
    input.destroy();
    // Batches already started must settle before the model may be closed.
    await Promise.allSettled(inFlight.map((b) => b.scores));
    out.destroy();
    rejects.destroy();
    if (err instanceof Error && err.name === 'CsvError')
      throw new ScoreFileError('MALFORMED_CSV', `${options.input}: ${err.message}`);
    throw err;
  } finally {
    pending = [];
  }
  await Promise.all([close(out), close(rejects)]);
  return {
    ...progress(),
    output: options.output,
    rejects: rejectsPath,
    idColumn: layout.idAt >= 0 ? layout.header[layout.idAt]! : null,
    ignored: layout.ignored,
  };
}

function padTo(fields: readonly string[], width: number): string[] {
  const out = fields.slice(0, width);
  while (out.length < width) out.push('');
  return out;
}

async function put(stream: WriteStream, text: string): Promise<void> {
  if (text !== '' && !stream.write(text)) await once(stream, 'drain');
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}
