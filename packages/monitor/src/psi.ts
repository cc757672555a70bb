// Population Stability Index of counted rows against the reference shares, and the usual reading
// of it. Shares of 0 (a category the reference never saw, a score bin no test row reached) are
// floored at PSI_FLOOR so that one unseen value gives a large but finite index instead of infinity.
import type { BinLayout, DriftBins } from './bins.js';

export const PSI_FLOOR = 1e-4;
/** Below this: `ok`. */
export const PSI_WATCH = 0.1;
/** Above this: `drift`. */
export const PSI_DRIFT = 0.25;

/** `insufficient_data`: fewer rows in the window than the minimum, so no index is reported. */
export type DriftStatus = 'ok' | 'watch' | 'drift' | 'insufficient_data';

export function driftStatus(psi: number | null): DriftStatus {
  if (psi === null) return 'insufficient_data';
  if (psi < PSI_WATCH) return 'ok';
  return psi > PSI_DRIFT ? 'drift' : 'watch';
}

/** Σ (current − reference) · ln(current / reference) over one layout's bins. */
export function psi(layout: BinLayout, counts: ArrayLike<number>, rows: number): number {
  let sum = 0;
  const ref = layout.reference;
  for (let i = 0; i < ref.length; i++) {
    const r = Math.max(ref[i]!, PSI_FLOOR);
    const c = Math.max(counts[layout.offset + i]! / rows, PSI_FLOOR);
    sum += (c - r) * Math.log(c / r);
  }
  return sum;
}

export interface BinShare {
  readonly label: string;
  readonly reference: number;
  readonly current: number;
}

export interface LayoutDrift {
  readonly name: string;
  readonly psi: number | null;
  readonly status: DriftStatus;
  readonly bins: readonly BinShare[];
}

export interface DriftSummary {
  readonly rows: number;
  readonly features: readonly LayoutDrift[];
  readonly prediction: LayoutDrift;
}

function layoutDrift(layout: BinLayout, counts: ArrayLike<number>, rows: number, enough: boolean): LayoutDrift {
  const value = enough ? psi(layout, counts, rows) : null;
  return {
    name: layout.name,
    psi: value,
    status: driftStatus(value),
    bins: layout.labels.map((label, i) => ({
      label,
      reference: layout.reference[i]!,
      current: rows > 0 ? counts[layout.offset + i]! / rows : 0,
    })),
  };
}

/** PSI per feature and for the score; null indices when fewer than `minRows` rows were counted. */
export function summarize(bins: DriftBins, counts: ArrayLike<number>, rows: number, minRows: number): DriftSummary {
  const enough = rows >= Math.max(1, minRows);
  return {
    rows,
    features: bins.features.map((l) => layoutDrift(l, counts, rows, enough)),
    prediction: layoutDrift(bins.score, counts, rows, enough),
  };
}
