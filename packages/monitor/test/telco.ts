// The training data as the gateway receives it: records with numbers as numbers and the blank
// TotalCharges as null; and a seeded generator so that samples are the same on every run.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

const NUMERIC = new Set(['SeniorCitizen', 'tenure', 'MonthlyCharges', 'TotalCharges']);

export type TelcoRecord = Record<string, string | number | null>;

/** Every row of models/training/data/telco-churn.csv (no quoted fields in it), without the label. */
export function telcoRecords(): TelcoRecord[] {
  const [head, ...lines] = readFileSync(`${repoRoot}models/training/data/telco-churn.csv`, 'utf8')
    .trim()
    .split(/\r?\n/);
  const columns = head!.split(',');
  return lines.map((line) => {
    const cells = line.split(',');
    const r: TelcoRecord = {};
    columns.forEach((c, i) => {
      if (c === 'Churn') return;
      const v = cells[i]!.trim();
      if (c === 'customerID') r.customer_id = v;
      else r[c] = NUMERIC.has(c) ? (v === '' ? null : Number(v)) : v;
    });
    return r;
  });
}

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` rows drawn with replacement. */
export function sample<T>(rows: readonly T[], n: number, random: () => number): T[] {
  return Array.from({ length: n }, () => rows[Math.floor(random() * rows.length)]!);
}
