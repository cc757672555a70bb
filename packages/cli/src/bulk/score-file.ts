// Scoring a whole file with one model version: CSV in, read as it streams, scored in batches by
// the same Batcher, schema and answer fields as the gateway; CSV out in input order (the id
// column, then the answer's fields), and every row that could not be scored in a reject file with
// its field errors. Memory stays bounded by the batch size whatever the file's size: at most two
// batches are in flight (one running, one being read), and reading waits for the writes.
import { once } from 'node:events';
import { createReadStream, createWriteStream, rmSync, statSync, type WriteStream } from 'node:fs';
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
function defaultRejectsPath(output: string): string {
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
  readonly size: number;
  /** Per row, its id cell (trimmed), when the file has an id column. */
  readonly ids: string[] | null;
  /** The rows not scored, in order, kept whole for the reject file. */
  readonly rejected: { readonly record: CsvRecord; readonly issues: RowIssue[] }[];
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
    throw new ScoreFileError('UNREADABLE_INPUT', `cannot read the input: ${(err as Error).message}`);
  }
  const input = createReadStream(options.input, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const out = createWriteStream(options.output);
  const rejects = createWriteStream(rejectsPath);
  // A write stream reports failure (a folder that is not there, a full disk) as an event; kept
  // here, it fails the job at the next write or at the end, never the process.
  let writeError: Error | undefined;
  const onWriteError = (err: Error) => {
    writeError ??= err;
  };
  out.on('error', onWriteError);
  rejects.on('error', onWriteError);
  const put = async (stream: WriteStream, text: string): Promise<void> => {
    if (writeError) throw unwritable(writeError);
    if (text !== '' && !stream.write(text)) await once(stream, 'drain');
  };
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
    // Only the ids and the rejected rows outlive the call: the cells are in the columns now, and
    // a batch's strings kept until its write would survive garbage collections for nothing.
    const ids = l.idAt >= 0 ? batch.map((r) => (r.fields[l.idAt] ?? '').trim()) : null;
    const rejected: Batch['rejected'] = [];
    for (let k = 0; k < batch.length; k++) if (slot[k]! < 0) rejected.push({ record: batch[k]!, issues: issues[k]! });
    const scores =
      from.length > 0 ? model.batcher.scoreColumns(cols, from.length) : Promise.resolve(new Float64Array(0));
    // The rejection is handled where the batch is written; until then it must not count as unhandled.
    scores.catch(() => {});
    return { size: batch.length, ids, rejected, scores, slot };
  };

  const write = async (batch: Batch): Promise<void> => {
    const scores = await batch.scores;
    const l = layout!;
    let text = '';
    let bad = '';
    let r = 0;
    for (let k = 0; k < batch.size; k++) {
      dataRow++;
      const j = batch.slot[k]!;
      if (j < 0) {
        const { record, issues } = batch.rejected[r++]!;
        bad += csvLine([...padTo(record.fields, l.header.length), String(record.line), JSON.stringify(issues)]);
        continue;
      }
      const p = scores[j]!;
      const id = batch.ids ? batch.ids[k]! : String(dataRow);
      text += csvLine([id, String(p), model.answers.category(p) ?? '', model.answers.version]);
    }
    rows += batch.size;
    scored += batch.size - batch.rejected.length;
    rejected += batch.rejected.length;
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
    if (!layout) throw new ScoreFileError('EMPTY_INPUT', 'the input has no header row');
    await flush(true);
    while (inFlight.length > 0) await write(inFlight.shift()!);
    await Promise.all([close(out), close(rejects)]).catch((err: Error) => {
      throw unwritable(err);
    });
    if (writeError) throw unwritable(writeError);
  } catch (err) {
    input.destroy();
    // Batches already started must settle before the model may be closed.
    await Promise.allSettled(inFlight.map((b) => b.scores));
    out.destroy();
    rejects.destroy();
    // A file cut short must not pass for a result.
    rmSync(options.output, { force: true });
    rmSync(rejectsPath, { force: true });
    if (err instanceof Error && err.name === 'CsvError') throw new ScoreFileError('MALFORMED_CSV', err.message);
    if (err instanceof Error && 'code' in err && err.code === 'ERR_STREAM_DESTROYED') throw unwritable(err);
    throw err;
  } finally {
    pending = [];
  }
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

function unwritable(err: Error): ScoreFileError {
  return new ScoreFileError('UNWRITABLE_OUTPUT', `cannot write the output: ${err.message}`);
}

function close(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.errored) return reject(stream.errored);
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}
