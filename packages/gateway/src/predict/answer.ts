// The v1 answer for one record, rendered straight to a JSON string: the fixed parts of it
// (risk category, model version) are built once per model version, so a prediction costs one
// number-to-string, one id and a few concatenations.
import { randomBytes } from 'node:crypto';

export interface RiskBand {
  readonly category: string;
  readonly max: number;
}

export class RiskBandsError extends Error {
  override readonly name = 'RiskBandsError';
}

/** Checks model.json's `risk_thresholds`: ascending `max`, the last one covering 1. */
export function parseRiskBands(raw: unknown, where: string): readonly RiskBand[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length === 0)
    throw new RiskBandsError(`${where}: "risk_thresholds" must be a non-empty array`);
  const bands: RiskBand[] = [];
  let prev = -Infinity;
  for (const [i, b] of raw.entries()) {
    if (
      b === null ||
      typeof b !== 'object' ||
      typeof b.category !== 'string' ||
      typeof b.max !== 'number' ||
      !Number.isFinite(b.max)
    ) {
      throw new RiskBandsError(`${where}: risk_thresholds[${i}] must be {"category": string, "max": number}`);
    }
    if (b.max <= prev) throw new RiskBandsError(`${where}: risk_thresholds must have increasing "max" (entry ${i})`);
    prev = b.max;
    bands.push({ category: b.category, max: b.max });
  }
  return Object.freeze(bands);
}

/** Process-unique prediction ids: random prefix per process, then a base-36 counter. */
export class PredictionIds {
  private readonly prefix: string;
  private n = 0;
  constructor(prefix = randomBytes(6).toString('hex')) {
    this.prefix = `${prefix}-`;
  }
  next(): string {
    return this.prefix + (++this.n).toString(36);
  }
}

export interface Answer {
  customer_id: unknown;
  churn_probability: number;
  risk_category: string | null;
  model_version: string;
  prediction_id: string;
}

/** Renders answers of one model version. */
export class AnswerRenderer {
  private readonly bands: readonly RiskBand[];
  private readonly maxes: Float64Array;
  /** `","risk_category":"Low","model_version":"1","prediction_id":"` per band (+1 for none). */
  private readonly middles: readonly string[];
  private readonly ids: PredictionIds;
  readonly version: string;

  constructor(version: string, bands: readonly RiskBand[], ids: PredictionIds) {
    this.version = version;
    this.bands = bands;
    this.ids = ids;
    this.maxes = Float64Array.from(bands.map((b) => b.max));
    const tail = `,"model_version":${JSON.stringify(version)},"prediction_id":"`;
    this.middles = [
      ...bands.map((b) => `,"risk_category":${JSON.stringify(b.category)}${tail}`),
      `,"risk_category":null${tail}`,
    ];
  }

  /** Index of the band for p (bands.length when there are none). */
  band(p: number): number {
    const m = this.maxes;
    const n = m.length;
    if (n === 0) return 0;
    for (let i = 0; i < n; i++) if (p <= m[i]!) return i;
    return n - 1; // above the last max: the highest band, never "no band"
  }

  category(p: number): string | null {
    return this.bands[this.band(p)]?.category ?? null;
  }

  /** `{"customer_id":...,"churn_probability":...,...}` */
  json(customerId: unknown, p: number): string {
    return `{"customer_id":${idJson(customerId)},"churn_probability":${Number.isFinite(p) ? p : 'null'}${this.middles[this.band(p)]}${this.ids.next()}"}`;
  }

  object(customerId: unknown, p: number): Answer {
    return {
      customer_id: customerId ?? null,
      churn_probability: p,
      risk_category: this.category(p),
      model_version: this.version,
      prediction_id: this.ids.next(),
    };
  }
}

const PLAIN = /^[\w .:@-]*$/;

function idJson(id: unknown): string {
  if (id === undefined || id === null) return 'null';
  if (typeof id === 'string' && id.length < 64 && PLAIN.test(id)) return `"${id}"`;
  return JSON.stringify(id) ?? 'null';
}

/** The id a record carries: the first passthrough field present. */
export function recordId(record: unknown, fields: readonly string[]): unknown {
  if (record === null || typeof record !== 'object') return null;
  const r = record as Record<string, unknown>;
  for (let i = 0; i < fields.length; i++) {
    const v = r[fields[i]!];
    if (v !== undefined && v !== null) return v;
  }
  return null;
}
