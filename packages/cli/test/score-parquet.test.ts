// Scoring Parquet files (`ortline score` with .parquet in or out): a file written by pyarrow
// (typed columns, ZSTD, several row groups) gets the same answers as the same rows as CSV, in
// order, to CSV and to Parquet; the Parquet it writes reads back in pyarrow with the types it
// says; rejects keep the row's own types; columns that cannot feed their features, and files
// that are not Parquet, fail the file before anything is scored.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledChurn, ensureBuilt, ortlineBin, repoRoot } from '../../gateway/test/helpers.js';
import { csvLine } from '../src/bulk/csv-writer.js';
import { type BulkModel, loadBulkModel } from '../src/bulk/model.js';
import { scoreFile } from '../src/bulk/score-file.js';
import { ScoreFileError } from '../src/bulk/types.js';
import { col, header, readCsv, telcoRows } from './files.js';

const python = join(repoRoot, 'models', 'training', '.venv', 'bin', 'python');
const rows = telcoRows(600);
rows[5]![col('tenure')] = '-3'; // out of range
rows[17]![col('Contract')] = 'Weekly'; // not a category
rows[17]![col('gender')] = 'X'; // and a second bad field in the same row
rows[81]![col('TotalCharges')] = ''; // a missing optional value: null in Parquet, the model's default
const BAD = [5, 17];

/** Runs a Python script (pandas and pyarrow from the training venv) with arguments; returns stdout. */
function py(script: string, ...args: string[]): string {
  const r = spawnSync(python, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`python failed (${r.error?.message ?? r.status}):\n${r.stderr}`);
  return r.stdout;
}

/** CSV -> Parquet as a user's pipeline would write it: numbers typed, ZSTD, `group` rows per row group. */
const TO_PARQUET = `
import sys, pandas as pd
src, dst, group, text_col = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
df = pd.read_csv(src, dtype={'customerID': str}, keep_default_na=False, na_values={'TotalCharges': ['', ' ']})
if text_col:
    df[text_col] = df[text_col].astype(str)
df.to_parquet(dst, compression='zstd', row_group_size=group, index=False)
`;

/** A Parquet file as pyarrow reads it: its columns' types and its rows (JSON). */
const READ_PARQUET = `
import sys, json, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
print(json.dumps({'types': {f.name: str(f.type) for f in t.schema}, 'rows': t.to_pylist(),
                  'groups': pq.ParquetFile(sys.argv[1]).metadata.num_row_groups}))
`;

function readParquet(path: string): { types: Record<string, string>; rows: Record<string, unknown>[]; groups: number } {
  return JSON.parse(py(READ_PARQUET, path));
}

let work: string;
let csvInput: string;
let parquetInput: string;
let model: BulkModel;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'ortline-parquet-'));
  csvInput = join(work, 'customers.csv');
  writeFileSync(csvInput, [header, ...rows].map((r) => csvLine(r)).join(''));
  parquetInput = join(work, 'customers.parquet');
  py(TO_PARQUET, csvInput, parquetInput, '250', '');
  model = await loadBulkModel(bundledChurn('1'), { batchRows: 64 });
});

afterAll(async () => {
  await model?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('scoreFile with Parquet', () => {
  it('reads what pyarrow wrote (typed, ZSTD, 3 row groups): the same answers as the same rows as CSV', async () => {
    expect(readParquet(parquetInput)).toMatchObject({
      groups: 3,
      types: { customerID: 'string', tenure: 'int64', MonthlyCharges: 'double', TotalCharges: 'double' },
    });
    const fromCsv = await scoreFile(model, { input: csvInput, output: join(work, 'from-csv.csv'), batchRows: 64 });
    // 64-row batches do not divide 250-row groups: blocks end at group ends and batches are short there.
    const summary = await scoreFile(model, { input: parquetInput, output: join(work, 'from-pq.csv'), batchRows: 64 });
    expect(summary).toMatchObject({ rows: 600, scored: 598, rejected: 2, idColumn: 'customerID', ignored: ['Churn'] });
    expect(summary.bytesRead).toBe(summary.bytesTotal);
    expect(fromCsv).toMatchObject({ rows: 600, scored: 598, rejected: 2 });
    expect(readFileSync(summary.output, 'utf8')).toBe(readFileSync(fromCsv.output, 'utf8'));
    // The same issues; a Parquet row is placed by its row number (from 1), a CSV row by its line.
    const csvRejects = readCsv(fromCsv.rejects);
    const pqRejects = readCsv(summary.rejects);
    expect(pqRejects[0]).toEqual([...header, 'reject_row', 'reject_errors']);
    expect(pqRejects.slice(1).map((r) => r.at(-2))).toEqual(BAD.map((i) => String(i + 1)));
    expect(pqRejects.slice(1).map((r) => r.at(-1))).toEqual(csvRejects.slice(1).map((r) => r.at(-1)));
    expect(JSON.parse(pqRejects[2]!.at(-1)!).map((x: { field: string }) => x.field)).toEqual(['gender', 'Contract']);
  });

  it('writes Parquet that pyarrow reads with the types it says, equal to the CSV it would write', async () => {
    const csv = await scoreFile(model, { input: parquetInput, output: join(work, 'a.csv'), batchRows: 100 });
    const pq = await scoreFile(model, { input: parquetInput, output: join(work, 'a.parquet'), batchRows: 100 });
    expect(pq.rejects).toBe(join(work, 'a.rejects.parquet'));
    const out = readParquet(pq.output);
    expect(out.types).toEqual({
      customerID: 'string',
      churn_probability: 'double',
      risk_category: 'string',
      model_version: 'string',
    });
    const [, ...lines] = readCsv(csv.output);
    expect(out.rows).toHaveLength(598);
    expect(out.rows.map((r) => [r.customerID, String(r.churn_probability), r.risk_category, r.model_version])).toEqual(
      lines,
    );
    // The rejects keep each column's own type (tenure stays an integer), then the row and the errors.
    const rejects = readParquet(pq.rejects);
    expect(rejects.types).toMatchObject({ tenure: 'int64', MonthlyCharges: 'double', reject_row: 'int64' });
    expect(rejects.rows.map((r) => [r.customerID, r.tenure, r.reject_row])).toEqual([
      [rows[5]![0], -3, 6],
      [rows[17]![0], Number(rows[17]![col('tenure')]), 18],
    ]);
    expect(JSON.parse(rejects.rows[0]!.reject_errors as string)[0]).toMatchObject({
      field: 'tenure',
      code: 'out_of_range',
    });
  });

  it('writes row groups of 65,536 rows, and numbers rows from 1 when there is no id column', async () => {
    // 70,000 rows through a CSV of the first row repeated with fresh ids left out.
    const many = join(work, 'many.csv');
    const noId = header.filter((h) => h !== 'customerID');
    const cells = rows[0]!.filter((_, i) => header[i] !== 'customerID');
    writeFileSync(many, csvLine(noId) + csvLine(cells).repeat(70_000));
    const summary = await scoreFile(model, { input: many, output: join(work, 'many.parquet'), batchRows: 4096 });
    expect(summary).toMatchObject({ rows: 70_000, scored: 70_000, idColumn: null });
    const out = readParquet(summary.output);
    expect(out.groups).toBe(2);
    expect(out.types.row).toBe('int64');
    expect(out.rows.map((r) => r.row)).toEqual(Array.from({ length: 70_000 }, (_, i) => i + 1));
    expect(new Set(out.rows.map((r) => r.churn_probability)).size).toBe(1);
  });

  it('refuses, before scoring, a column whose type cannot feed its feature, and a file that is not Parquet', async () => {
    const textual = join(work, 'text-charges.parquet');
    py(TO_PARQUET, csvInput, textual, '250', 'TotalCharges');
    const output = join(work, 'never.parquet');
    const err = await scoreFile(model, { input: textual, output }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScoreFileError);
    expect(err).toMatchObject({ code: 'COLUMN_TYPE' });
    expect((err as Error).message).toMatch(/column "TotalCharges" is BYTE_ARRAY \((STRING|UTF8)\).*takes numbers/);
    const fake = join(work, 'fake.parquet');
    writeFileSync(fake, 'customerID,tenure\n1,2\n');
    await expect(scoreFile(model, { input: fake, output })).rejects.toMatchObject({ code: 'MALFORMED_PARQUET' });
    expect(() => readFileSync(output)).toThrow();
  });
});

describe('ortline score with Parquet', () => {
  beforeAll(() => ensureBuilt());

  it('scores a Parquet file to Parquet, exits 3 for the rejected rows, and says so', () => {
    const output = join(work, 'cli.parquet');
    const r = spawnSync(
      process.execPath,
      [ortlineBin, 'score', '--model', bundledChurn('1'), parquetInput, '-o', output],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toMatch(/600 rows, 598 scored, 2 rejected/);
    expect(r.status).toBe(3);
    expect(readParquet(output).rows).toHaveLength(598);
    expect(readParquet(join(work, 'cli.rejects.parquet')).rows).toHaveLength(2);
  });
});
