// Scoring a whole file with one model version: CSV in, read as it streams, scored in batches by
// the same Batcher, schema and answer fields as the gateway; CSV out in input order (the id
// column, then the answer's fields), and every row that could not be scored in a reject file with
// its field errors. Memory stays bounded by the batch size whatever the file's size: at most two
// batches are in flight (one running, one being read), and reading waits for the writes.
import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import type { FeatureIssue, FeatureSchema } from '@ortline/scorer';
import { ScorerError } from '@ortline/scorer';
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
  readonly features: readonly { readonly name: string; readonly at: number; readonly numeric: boolean }[];
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
  const features = schema.features
    .filter((f) => at.has(f.name))
    .map((f) => ({ name: f.name, at: at.get(f.name)!, numeric: f.kind === 'numeric' }));
  const id = idFields.find((f) => at.has(f));
  const used = new Set([...features.map((f) => f.name), ...(id ? [id] : [])]);
  return { header, features, idAt: id ? at.get(id)! : -1, ignored: header.filter((h) => !used.has(h)) };
}

/**
 * A CSV row as a record, read as the console reads a file: each cell trimmed, an empty one left
 * out (a missing value: the schema fills or refuses it), numbers for numeric features where the
 * text is one (else the text, for the schema to refuse by name).
 */
function recordOf(fields: readonly string[], layout: Layout, idField: string): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  if (layout.idAt >= 0) r[idField] = trimmed(fields[layout.idAt]!);
  for (const f of layout.features) {
    const text = trimmed(fields[f.at]!);
    if (text === '') continue;
    if (f.numeric) {
      const n = Number(text);
      r[f.name] = Number.isFinite(n) ? n : text;
    } else r[f.name] = text;
  }
  return r;
}

/** The cell without surrounding white space; the common case (none) costs two comparisons. */
function trimmed(text: string): string {
  const n = text.length;
  if (n === 0 || (text.charCodeAt(0) > 32 && text.charCodeAt(n - 1) > 32)) return text;
  return text.trim();
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
  const idField = model.answers.fields.id;
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

  const submit = (batch: CsvRecord[]): Batch => {
    const l = layout!;
    const issues: (RowIssue[] | undefined)[] = new Array(batch.length);
    const slot = new Int32Array(batch.length).fill(-1);
    const records: Record<string, unknown>[] = [];
    const width = l.header.length;
    batch.forEach((row, k) => {
      if (row.fields.length !== width) {
        issues[k] = [
          { field: '(row)', code: 'field_count', message: `${row.fields.length} fields where the header has ${width}` },
        ];
        return;
      }
      slot[k] = records.length;
      records.push(recordOf(row.fields, l, idField));
    });
    // Only a batch with a bad row pays for a second pass: the first call names every issue.
    const scores = model.batcher.predict(records).catch((err: unknown) => {
      const list = err instanceof ScorerError && err.code === 'INVALID_FEATURES' ? featureIssues(err) : undefined;
      if (!list) throw err;
      const bad = new Set<number>();
      for (const issue of list) bad.add(issue.row);
      const keep: Record<string, unknown>[] = [];
      const kept = new Int32Array(records.length).fill(-1);
      records.forEach((r, j) => {
        if (!bad.has(j)) {
          kept[j] = keep.length;
          keep.push(r);
        }
      });
      for (let k = 0; k < batch.length; k++) {
        const j = slot[k]!;
        if (j < 0) continue;
        if (bad.has(j)) {
          issues[k] = list
            .filter((x) => x.row === j)
            .map((x) => ({ field: x.field, code: x.code, message: x.message.replace(/^row \d+: /, '') }));
          slot[k] = -1;
        } else slot[k] = kept[j]!;
      }
      return keep.length > 0 ? model.batcher.predict(keep) : new Float64Array(0);
    });
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
      const id = l.idAt >= 0 ? trimmed(row.fields[l.idAt]!) : String(dataRow);
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

function featureIssues(err: ScorerError): FeatureIssue[] | undefined {
  const list = (err.details as { issues?: unknown }).issues;
  return Array.isArray(list) ? (list as FeatureIssue[]) : undefined;
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
