// Scoring a whole file with one model version: CSV or Parquet in (csv-source.ts,
// parquet-source.ts), read as it streams, scored in batches by the same Batcher, schema and answer
// fields as the gateway; CSV or Parquet out in input order (the id column, then the answer's
// fields), and every row that could not be scored in a reject file with its field errors. Memory
// stays bounded by the batch size (and, for Parquet input, the row group) whatever the file's
// size: at most two batches are in flight (one running, one being read), and reading waits for
// the writes.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Columns, FeatureIssue, FeatureSchema } from '@ortline/scorer';
import { openCsvSink } from './csv-sink.js';
import { openCsv } from './csv-source.js';
import type { BulkModel } from './model.js';
import { openParquetSink } from './parquet-sink.js';
import { openParquet } from './parquet-source.js';
import { type ColumnType, formatOf, type RowBlock, type RowIssue, type RowSource, type TableSink } from './table.js';
import {
  DEFAULT_BATCH_ROWS,
  ScoreFileError,
  type ScoreFileOptions,
  type ScoreProgress,
  type ScoreSummary,
  unwritable,
} from './types.js';

/** `scored.csv` -> `scored.rejects.csv`. */
function defaultRejectsPath(output: string): string {
  const dot = output.lastIndexOf('.');
  const slash = output.lastIndexOf('/');
  return dot > slash + 1 ? `${output.slice(0, dot)}.rejects${output.slice(dot)}` : `${output}.rejects.csv`;
}

/** Which input column feeds what: features by name, the id, the rest ignored. */
interface Layout {
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
  return { cellOf, idAt: id ? at.get(id)! : -1, ignored: header.filter((h) => !used.has(h)) };
}

interface Batch {
  readonly size: number;
  /** Per row, its id, when the file has an id column. */
  readonly ids: unknown[] | null;
  /** The rows not scored, in order, kept whole for the reject file. */
  readonly rejected: { readonly cells: unknown[]; readonly position: number; readonly issues: RowIssue[] }[];
  readonly scores: Promise<Float64Array>;
  /** Index into scores per row, -1 for a rejected row. */
  readonly slot: Int32Array;
}

function openSource(path: string, schema: FeatureSchema, csvAsText: boolean): Promise<RowSource> {
  return formatOf(path) === 'parquet' ? openParquet(path, schema) : openCsv(path, schema, { asText: csvAsText });
}

function openSink(path: string, names: readonly string[], types: readonly ColumnType[]): TableSink {
  return formatOf(path) === 'parquet' ? openParquetSink(path, names, types) : openCsvSink(path, names);
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
  const source = await openSource(options.input, model.schema, options.csvAsText === true).catch((err: unknown) => {
    throw asScoreFileError(err);
  });
  let layout: Layout;
  try {
    layout = layoutOf(source.header, model.schema, model.answers.idFields);
    model.schema.features.forEach((f, k) => {
      const c = layout.cellOf[k]!;
      if (c >= 0) source.checkFeature(c, f.name, f.kind);
    });
  } catch (err) {
    source.close();
    throw err;
  }
  const l = layout;
  const header = source.header;
  const f = model.answers.fields;
  const idColumn = l.idAt >= 0 ? header[l.idAt]! : null;
  const sinks: TableSink[] = [];
  const inFlight: Batch[] = [];
  let rows = 0;
  let scored = 0;
  let rejected = 0;
  let dataRow = 0;

  const progress = (): ScoreProgress => ({
    rows,
    scored,
    rejected,
    bytesRead: source.bytesRead(),
    bytesTotal: source.bytesTotal,
    seconds: (performance.now() - started) / 1000,
  });

  // A full batch's columns are reused: the Batcher copies them before scoreColumns returns.
  let full: Columns | undefined;
  const columnsFor = (n: number): Columns => {
    if (n !== batchRows) return model.schema.allocate(n);
    if (!full) full = model.schema.allocate(batchRows);
    return full;
  };

  const submit = (block: RowBlock): Batch => {
    const issues: (RowIssue[] | undefined)[] = new Array(block.size);
    const slot = new Int32Array(block.size).fill(-1);
    let from: number[] = [];
    for (let k = 0; k < block.size; k++) {
      const why = block.unreadable(k);
      if (why) issues[k] = [why];
      else from.push(k);
    }
    let cols = columnsFor(from.length);
    const found: FeatureIssue[] = [];
    block.write(l.cellOf, from, cols, found);
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
      from = from.filter((_, j) => !bad.has(j));
      cols = columnsFor(from.length);
      block.write(l.cellOf, from, cols, []);
    }
    from.forEach((k, j) => {
      slot[k] = j;
    });
    // Only the ids and the rejected rows outlive the call: the cells are in the columns now, and
    // a batch's values kept until its write would survive garbage collections for nothing.
    const ids = l.idAt >= 0 ? Array.from({ length: block.size }, (_, k) => block.id(k, l.idAt)) : null;
    const rejected: Batch['rejected'] = [];
    for (let k = 0; k < block.size; k++)
      if (slot[k]! < 0)
        rejected.push({
          cells: header.map((_, c) => block.value(k, c)),
          position: block.position(k),
          issues: issues[k]!,
        });
    const scores =
      from.length > 0 ? model.batcher.scoreColumns(cols, from.length) : Promise.resolve(new Float64Array(0));
    // The rejection is handled where the batch is written; until then it must not count as unhandled.
    scores.catch(() => {});
    return { size: block.size, ids, rejected, scores, slot };
  };

  const write = async (batch: Batch, out: TableSink, bad: TableSink): Promise<void> => {
    const scores = await batch.scores;
    const n = batch.size - batch.rejected.length;
    const id: unknown[] = new Array(n);
    const probability: number[] = new Array(n);
    const risk: (string | null)[] = new Array(n);
    const version: string[] = new Array(n).fill(model.answers.version);
    for (let k = 0; k < batch.size; k++) {
      dataRow++;
      const j = batch.slot[k]!;
      if (j < 0) continue;
      const p = scores[j]!;
      id[j] = batch.ids ? batch.ids[k] : BigInt(dataRow);
      probability[j] = p;
      risk[j] = model.answers.category(p) ?? null;
    }
    const rejects: unknown[][] = [...header.map(() => [] as unknown[]), [], []];
    for (const r of batch.rejected) {
      for (let c = 0; c < header.length; c++) rejects[c]!.push(r.cells[c]);
      rejects[header.length]!.push(BigInt(r.position));
      rejects[header.length + 1]!.push(JSON.stringify(r.issues));
    }
    rows += batch.size;
    scored += n;
    rejected += batch.rejected.length;
    await Promise.all([
      n > 0 ? out.append([id, probability, risk, version]) : undefined,
      batch.rejected.length > 0 ? bad.append(rejects) : undefined,
    ]);
    options.onProgress?.(progress());
  };

  try {
    const out = openSink(
      options.output,
      [idColumn ?? 'row', f.probability, f.risk, 'model_version'],
      [l.idAt >= 0 ? source.typeOf(l.idAt) : 'int64', 'double', 'string', 'string'],
    );
    sinks.push(out);
    const bad = openSink(
      rejectsPath,
      [...header, source.positionName, 'reject_errors'],
      [...header.map((_, c) => source.typeOf(c)), 'int64', 'string'],
    );
    sinks.push(bad);
    for (let block = await source.next(batchRows); block; block = await source.next(batchRows)) {
      inFlight.push(submit(block));
      if (inFlight.length >= 2) await write(inFlight.shift()!, out, bad);
    }
    while (inFlight.length > 0) await write(inFlight.shift()!, out, bad);
    await Promise.all([out.close(), bad.close()]);
  } catch (err) {
    source.close();
    // Batches already started must settle before the model may be closed.
    await Promise.allSettled(inFlight.map((b) => b.scores));
    for (const s of sinks) s.destroy();
    // A file cut short must not pass for a result.
    rmSync(options.output, { force: true });
    rmSync(rejectsPath, { force: true });
    throw asScoreFileError(err);
  }
  source.close();
  return {
    ...progress(),
    output: options.output,
    rejects: rejectsPath,
    idColumn,
    ignored: l.ignored,
  };
}

function asScoreFileError(err: unknown): unknown {
  if (err instanceof Error && err.name === 'CsvError') return new ScoreFileError('MALFORMED_CSV', err.message);
  if (err instanceof Error && 'code' in err && err.code === 'ERR_STREAM_DESTROYED') return unwritable(err);
  return err;
}
