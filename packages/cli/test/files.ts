// What the file-scoring tests share: the training data's first rows as cells, and a CSV file read
// back whole.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../gateway/test/helpers.js';
import { CsvReader } from '../src/bulk/csv-reader.js';

/** The training data's CSV, line by line (the header first). */
export const telcoLines: readonly string[] = readFileSync(
  join(repoRoot, 'models/training/data/telco-churn.csv'),
  'utf8',
)
  .trim()
  .split(/\r?\n/);

/** The training data's header. */
export const header: readonly string[] = telcoLines[0]!.split(',');

/** A column's index in the header. */
export const col = (name: string): number => header.indexOf(name);

/** The first `n` data rows as cells (a fresh copy each call, to break on purpose). */
export function telcoRows(n: number): string[][] {
  return telcoLines.slice(1, n + 1).map((l) => l.split(','));
}

export function readCsv(path: string): string[][] {
  const r = new CsvReader();
  return [...r.push(readFileSync(path, 'utf8')), ...r.end()].map((x) => x.fields);
}
