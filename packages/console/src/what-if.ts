// "What would change it": every single-feature change of a scored record that its schema allows,
// each other category of a categorical feature and a few steps of a numeric one, and the
// ranking of their answers.
import type { Feature, Prediction } from './api.js';

export interface Change {
  readonly feature: string;
  readonly from: unknown;
  readonly to: string | number;
  /** Fixed by the card: a business cannot make this change. */
  readonly fixed: boolean;
}

export interface Scored extends Change {
  readonly answer: Prediction;
}

/** Steps for a numeric feature without both bounds: -50 % .. +50 % of its value ... */
const FACTORS = [0.5, 0.75, 0.9, 1.1, 1.25, 1.5];
/** ... and these added and taken away (percentages of a small whole number round back to it). */
const OFFSETS = [1, 10, 100];
/** A bounded numeric feature is stepped across its range in this many equal parts. */
const PARTS = 10;

/** The values a numeric feature is tried at: across its range when bounded, else around its value. */
export function numericSteps(f: Feature, current: unknown): number[] {
  const min = f.min ?? null;
  const max = f.max ?? null;
  let raw: number[];
  if (min !== null && max !== null) {
    raw = Array.from({ length: PARTS + 1 }, (_, i) => min + ((max - min) * i) / PARTS);
  } else {
    const base = typeof current === 'number' ? current : (min ?? 0);
    raw = [...FACTORS.map((k) => base * k), ...OFFSETS.flatMap((d) => [base - d, base + d])];
  }
  const values = raw
    .map((v) => Math.min(max ?? Infinity, Math.max(min ?? -Infinity, v)))
    .map((v) => (f.integer ? Math.round(v) : Math.round(v * 100) / 100));
  return [...new Set(values)].filter((v) => v !== current).sort((a, b) => a - b);
}

export function changesOf(
  features: readonly Feature[],
  fixed: readonly string[],
  record: Readonly<Record<string, unknown>>,
): Change[] {
  const isFixed = new Set(fixed);
  const out: Change[] = [];
  for (const f of features) {
    const from = record[f.name];
    const to = f.kind === 'categorical' ? (f.categories ?? []).filter((c) => c !== from) : numericSteps(f, from);
    for (const v of to) out.push({ feature: f.name, from, to: v, fixed: isFixed.has(f.name) });
  }
  return out;
}

export function recordWith(record: Readonly<Record<string, unknown>>, c: Change): Record<string, unknown> {
  return { ...record, [c.feature]: c.to };
}

/** Lowest probability first; ties keep the schema's order. */
export function ranked(scored: readonly Scored[]): Scored[] {
  return scored
    .map((s, i) => ({ s, i }))
    .sort((a, b) => a.s.answer.probability - b.s.answer.probability || a.i - b.i)
    .map(({ s }) => s);
}

export function describeValue(v: unknown): string {
  return v === undefined || v === null ? '(missing)' : String(v);
}
