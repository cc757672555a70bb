// The record a form's values stand for. The gateway is the one validator: what cannot be read as
// the feature's type is sent as typed and the gateway names the field; an empty field is left out
// (so "required" comes back from the gateway too).
import type { Feature, ModelInfo } from './api.js';
import type { FormValues } from './store.js';

export function recordOf(info: ModelInfo, values: FormValues): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  const id = values[info.id_fields[0] ?? ''];
  if (info.id_fields[0] !== undefined && id !== undefined && id.trim() !== '') record[info.id_fields[0]] = id.trim();
  for (const f of info.features) {
    const raw = values[f.name];
    if (raw === undefined || raw.trim() === '') continue;
    record[f.name] = typedValue(f, raw.trim());
  }
  return record;
}

/** A typed value: numbers for numeric features when the text is a number, else the text itself. */
export function typedValue(f: Feature, text: string): unknown {
  if (f.kind !== 'numeric') return text;
  const n = Number(text);
  return text !== '' && Number.isFinite(n) ? n : text;
}

/** Form values for a record (the inverse of recordOf), e.g. to show a file's row in the form. */
export function valuesOf(info: ModelInfo, record: Readonly<Record<string, unknown>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of [...info.id_fields, ...info.features.map((f) => f.name)]) {
    const v = record[name];
    if (v !== undefined && v !== null) values[name] = String(v);
  }
  return values;
}

/** "0 to 72, whole numbers" for a numeric feature's hint. */
export function rangeHint(f: Feature): string {
  const parts: string[] = [];
  const min = f.min ?? null;
  const max = f.max ?? null;
  if (min !== null && max !== null) parts.push(`${min} to ${max}`);
  else if (min !== null) parts.push(`at least ${min}`);
  else if (max !== null) parts.push(`at most ${max}`);
  if (f.integer) parts.push('whole number');
  return parts.join(', ');
}
