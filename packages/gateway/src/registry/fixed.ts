// model.json's `fixed_features`: the features a business cannot change for a customer (who they
// are, their history). Clients that explore "what would change the risk" list them apart. A
// name that is not a feature of the card is a broken card, not something to ignore.
import { ModelCardError } from '../predict/answer.js';

export function parseFixedFeatures(raw: unknown, features: ReadonlySet<string>, where: string): readonly string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((n) => typeof n !== 'string'))
    throw new ModelCardError(`${where}: "fixed_features" must be an array of feature names`);
  const unknown = raw.filter((n) => !features.has(n));
  if (unknown.length > 0)
    throw new ModelCardError(`${where}: fixed_features names no feature of the card: ${unknown.join(', ')}`);
  return Object.freeze([...new Set(raw as string[])]);
}
