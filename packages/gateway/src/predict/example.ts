// A record the feature schema accepts, built from the schema alone: the warm-up row of every
// version's gate, and the example of each model's record in /openapi.json.
import type { FeatureSpec } from '@ortline/scorer';

/** Each feature's default, else its first category or the number nearest 0 within its bounds. */
export function exampleRecord(features: readonly FeatureSpec[]): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const f of features) {
    if (f.kind === 'categorical') row[f.name] = typeof f.default === 'string' ? f.default : (f.categories?.[0] ?? '');
    else row[f.name] = typeof f.default === 'number' ? f.default : (f.min ?? (f.max != null && f.max < 0 ? f.max : 0));
  }
  return row;
}
