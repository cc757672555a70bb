// The per-request cache opt-out and the answer's cache header.
//   HTTP:      Cache-Control: no-cache  -> score fresh (no lookups), then refresh the caches
//              Cache-Control: no-store  -> score fresh, store nothing
//   WebSocket: "cache": false | "no-cache" | "no-store" in the frame (false = "no-cache")
// Answers say where their scores came from in `x-ortline-cache` (HTTP).
import { GatewayError } from '../errors.js';
import type { CacheDirective, CacheSource } from '../predict/scorer.js';

const NO_STORE = /(?:^|,)\s*no-store\s*(?:,|$)/i;
const NO_CACHE = /(?:^|,)\s*no-cache\s*(?:,|=|$)/i;

export function directiveOf(cacheControl: string): CacheDirective {
  if (cacheControl === '') return 'default';
  if (NO_STORE.test(cacheControl)) return 'no-store';
  if (NO_CACHE.test(cacheControl)) return 'no-cache';
  return 'default';
}

/** The frame's `cache` field; throws INVALID_REQUEST for anything else. */
export function frameDirective(value: unknown): CacheDirective {
  if (value === undefined || value === true || value === 'default') return 'default';
  if (value === false || value === 'no-cache') return 'no-cache';
  if (value === 'no-store') return 'no-store';
  throw new GatewayError('INVALID_REQUEST', '"cache" must be true, false, "no-cache" or "no-store"', {
    field: 'cache',
  });
}

/** Extra headers per source, built once: `x-ortline-cache: l1 | l2 | miss | mixed | bypass`. */
export const CACHE_HEADERS: Readonly<Record<CacheSource, readonly string[] | undefined>> = {
  l1: ['x-ortline-cache', 'l1'],
  l2: ['x-ortline-cache', 'l2'],
  miss: ['x-ortline-cache', 'miss'],
  mixed: ['x-ortline-cache', 'mixed'],
  bypass: ['x-ortline-cache', 'bypass'],
  off: undefined,
};
