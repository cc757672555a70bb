// A sliding window of counted rows: the last N rows, or the last T seconds. The window is a ring
// of segments, each with its own counts; when the newest segment is full (rows) or its time is
// up (seconds), the oldest is cleared and becomes the newest. Counting touches one segment;
// the window's totals are summed over the segments when someone asks (a scrape, the endpoint).
import type { DriftBins } from './bins.js';
import { type DriftSummary, summarize } from './psi.js';

export interface WindowOptions {
  /** Window by rows: the last `rows` rows (give this or `seconds`). */
  readonly rows?: number;
  /** Window by time: rows of the last `seconds` seconds. */
  readonly seconds?: number;
  /** Segments the window slides by (default 10): it drops the oldest tenth at a time. */
  readonly segments?: number;
  /** Fewer rows than this in the window: no index is reported (default 500). */
  readonly minRows?: number;
  /** Milliseconds since the epoch (tests move time by hand). */
  readonly now?: () => number;
}

export interface WindowSnapshot extends DriftSummary {
  /** When the oldest row still in the window was counted (ms since the epoch), or null when empty. */
  readonly since: number | null;
}

export class DriftWindow {
  readonly bins: DriftBins;
  readonly minRows: number;
  readonly byRows: boolean;
  /** Rows per segment (by rows) or milliseconds per segment (by time). */
  private readonly span: number;
  private readonly segments: number;
  private readonly counts: Uint32Array;
  private readonly segmentRows: Float64Array;
  /** When each segment was opened (ms); 0 for one never used. */
  private readonly opened: Float64Array;
  private current = 0;
  private readonly now: () => number;

  constructor(bins: DriftBins, options: WindowOptions) {
    const { rows, seconds } = options;
    if ((rows === undefined) === (seconds === undefined)) throw new RangeError('a drift window needs rows or seconds');
    const size = rows ?? seconds!;
    if (!(size > 0) || !Number.isFinite(size)) throw new RangeError('the drift window must be a positive size');
    this.bins = bins;
    this.byRows = rows !== undefined;
    this.segments = Math.max(1, Math.min(options.segments ?? 10, this.byRows ? size : Number.MAX_SAFE_INTEGER));
    this.span = this.byRows ? Math.ceil(size / this.segments) : (size * 1000) / this.segments;
    this.minRows = options.minRows ?? 500;
    this.now = options.now ?? Date.now;
    this.counts = new Uint32Array(this.segments * bins.size);
    this.segmentRows = new Float64Array(this.segments);
    this.opened = new Float64Array(this.segments);
    this.opened[0] = this.now();
  }

  /** Counts rows: records and their probabilities, index for index. */
  observe(records: readonly unknown[], scores: ArrayLike<number>): void {
    const n = records.length;
    if (n === 0) return;
    // By rows the clock is read only when a segment opens (the time `since` reports).
    if (!this.byRows) this.slideTo(this.now());
    const size = this.bins.size;
    for (let i = 0; i < n; i++) {
      if (this.byRows && this.segmentRows[this.current]! >= this.span) this.advance(this.now());
      this.bins.count(records[i], scores[i]!, this.counts, this.current * size);
      this.segmentRows[this.current]!++;
    }
  }

  /** Rows in the window now. */
  get rows(): number {
    if (!this.byRows) this.slideTo(this.now());
    let rows = 0;
    for (let s = 0; s < this.segments; s++) rows += this.segmentRows[s]!;
    return rows;
  }

  snapshot(): WindowSnapshot {
    const rows = this.rows;
    const size = this.bins.size;
    const totals = new Float64Array(size);
    let since: number | null = null;
    for (let s = 0; s < this.segments; s++) {
      if (this.segmentRows[s] === 0) continue;
      const base = s * size;
      for (let b = 0; b < size; b++) totals[b]! += this.counts[base + b]!;
      if (since === null || this.opened[s]! < since) since = this.opened[s]!;
    }
    return { ...summarize(this.bins, totals, rows, this.minRows), since };
  }

  /** Forgets every row. */
  clear(): void {
    this.counts.fill(0);
    this.segmentRows.fill(0);
    this.opened.fill(0);
    this.current = 0;
    this.opened[0] = this.now();
  }

  /** The next segment becomes the newest, its old rows dropped. */
  private advance(openedAt: number): void {
    this.current = (this.current + 1) % this.segments;
    const size = this.bins.size;
    this.counts.fill(0, this.current * size, (this.current + 1) * size);
    this.segmentRows[this.current] = 0;
    this.opened[this.current] = openedAt;
  }

  /** Time windows: opens the segment `now` falls in, dropping those that aged out. */
  private slideTo(now: number): void {
    const opened = this.opened[this.current]!;
    if (now < opened + this.span) return;
    const steps = Math.floor((now - opened) / this.span);
    if (steps >= this.segments) {
      this.counts.fill(0);
      this.segmentRows.fill(0);
      this.opened.fill(0);
      this.opened[this.current] = opened + steps * this.span;
      return;
    }
    for (let k = 1; k <= steps; k++) this.advance(opened + k * this.span);
  }
}
