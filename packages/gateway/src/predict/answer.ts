// The v1 answer for one record, rendered straight to a JSON string: the fixed parts of it (field
// names from the model card, risk category, model version) are built once per model version, so a
// prediction costs one number-to-string, one id and a few concatenations.
import { randomBytes } from 'node:crypto';

export interface RiskBand {
  readonly category: string;
  readonly max: number;
}

/** A model card whose answer section (risk thresholds, field names) cannot be used. */
export class ModelCardError extends Error {
  override readonly name = 'ModelCardError';
}

/** Checks model.json's `risk_thresholds`: ascending `max`, the last one covering 1. */
export function parseRiskBands(raw: unknown, where: string): readonly RiskBand[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.length === 0)
    throw new ModelCardError(`${where}: "risk_thresholds" must be a non-empty array`);
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
      throw new ModelCardError(`${where}: risk_thresholds[${i}] must be {"category": string, "max": number}`);
    }
    if (b.max <= prev) throw new ModelCardError(`${where}: risk_thresholds must have increasing "max" (entry ${i})`);
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

/**
 * The names of the v1 answer's fields, from model.json's `answer` section, so that every model
 * answers in its own words (`churn_probability`, `fraud_probability`, ...). `model_version` and
 * `prediction_id` are the gateway's own and keep their names.
 */
export interface AnswerFields {
  /** Holds the record's id (the first id field present in the record), or null. */
  readonly id: string;
  readonly probability: string;
  readonly risk: string;
}

/** For a model whose card has no `answer` section. */
export const DEFAULT_ANSWER_FIELDS: AnswerFields = Object.freeze({
  id: 'id',
  probability: 'probability',
  risk: 'risk_category',
});

const RESERVED = new Set(['model_version', 'prediction_id']);
const CARD_KEYS = { id: 'id_field', probability: 'probability_field', risk: 'risk_field' } as const;

/** Checks model.json's `answer`: `{"id_field", "probability_field", "risk_field"}`, distinct names. */
export function parseAnswerFields(raw: unknown, where: string): AnswerFields {
  if (raw === undefined || raw === null) return DEFAULT_ANSWER_FIELDS;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new ModelCardError(`${where}: "answer" must be an object of field names`);
  const r = raw as Record<string, unknown>;
  const out: Record<keyof AnswerFields, string> = { ...DEFAULT_ANSWER_FIELDS };
  for (const [field, key] of Object.entries(CARD_KEYS) as [keyof AnswerFields, string][]) {
    const v = r[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0)
      throw new ModelCardError(`${where}: answer.${key} must be a non-empty string`);
    if (RESERVED.has(v)) throw new ModelCardError(`${where}: answer.${key} may not be "${v}", the gateway's own field`);
    out[field] = v;
  }
  if (new Set([out.id, out.probability, out.risk]).size !== 3)
    throw new ModelCardError(`${where}: answer field names must be distinct`);
  return Object.freeze(out);
}

/** Renders the answers of one model version: its fields, its risk bands, its record id fields. */
export class AnswerRenderer {
  private readonly bands: readonly RiskBand[];
  private readonly maxes: Float64Array;
  readonly fields: AnswerFields;
  /** Record fields that carry its id, in order of preference. */
  readonly idFields: readonly string[];
  /** `{"customer_id":` */
  private readonly head: string;
  /** `,"churn_probability":` */
  private readonly probabilityKey: string;
  /** `,"risk_category":"Low","model_version":"1","prediction_id":"` per band (+1 for none). */
  private readonly middles: readonly string[];
  private readonly ids: PredictionIds;
  readonly version: string;

  constructor(
    version: string,
    bands: readonly RiskBand[],
    ids: PredictionIds,
    fields: AnswerFields = DEFAULT_ANSWER_FIELDS,
    idFields: readonly string[] = [],
  ) {
    this.version = version;
    this.bands = bands;
    this.ids = ids;
    this.fields = fields;
    this.idFields = idFields;
    this.maxes = Float64Array.from(bands.map((b) => b.max));
    this.head = `{${JSON.stringify(fields.id)}:`;
    this.probabilityKey = `,${JSON.stringify(fields.probability)}:`;
    const risk = `,${JSON.stringify(fields.risk)}:`;
    const tail = `,"model_version":${JSON.stringify(version)},"prediction_id":"`;
    this.middles = [...bands.map((b) => `${risk}${JSON.stringify(b.category)}${tail}`), `${risk}null${tail}`];
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

  /** `{"customer_id":...,"churn_probability":...,...}` for a record and its score. */
  json(record: unknown, p: number): string {
    return `${this.head}${idJson(this.recordId(record))}${this.probabilityKey}${Number.isFinite(p) ? p : 'null'}${this.middles[this.band(p)]}${this.ids.next()}"}`;
  }

  /** The same answer as an object (for MessagePack), keys in the same order. */
  object(record: unknown, p: number): Record<string, unknown> {
    return {
      [this.fields.id]: this.recordId(record),
      [this.fields.probability]: p,
      [this.fields.risk]: this.category(p),
      model_version: this.version,
      prediction_id: this.ids.next(),
    };
  }

  /** The id a record carries: the first id field present, else null. */
  recordId(record: unknown): unknown {
    if (record === null || typeof record !== 'object') return null;
    const r = record as Record<string, unknown>;
    const fields = this.idFields;
    for (let i = 0; i < fields.length; i++) {
      const v = r[fields[i]!];
      if (v !== undefined && v !== null) return v;
    }
    return null;
  }
}

const PLAIN = /^[\w .:@-]*$/;

function idJson(id: unknown): string {
  if (id === undefined || id === null) return 'null';
  if (typeof id === 'string' && id.length < 64 && PLAIN.test(id)) return `"${id}"`;
  return JSON.stringify(id) ?? 'null';
}
