// L1: an in-process LRU (lru-cache) of scores, shared by every model version (the key carries
// model and version), bounded by entries and by estimated bytes, with a TTL.
import { LRUCache } from 'lru-cache';

/**
 * Estimated bytes per entry beyond its key: the score, lru-cache's per-slot arrays (key, value,
 * next, prev, size, TTL start and length) and the Map entry. An estimate, not a measurement of
 * the heap; documented as such.
 */
export const L1_ENTRY_OVERHEAD = 150;

export interface L1Options {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** 0: no TTL. */
  readonly ttlMs: number;
}

export class L1Cache {
  private readonly lru: LRUCache<string, number>;

  constructor(options: L1Options) {
    this.lru = new LRUCache<string, number>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      ...(options.ttlMs > 0 ? { ttl: options.ttlMs } : {}),
      // Entries are counted from when they were stored; a read does not extend their life, so a
      // hot entry is recomputed (and refreshed) once per TTL.
      updateAgeOnGet: false,
    });
  }

  get(key: string): number | undefined {
    return this.lru.get(key);
  }

  set(key: string, score: number): void {
    this.lru.set(key, score, { size: key.length + L1_ENTRY_OVERHEAD });
  }

  /** Deletes every entry whose key starts with `prefix`; returns how many. O(entries). */
  deletePrefix(prefix: string): number {
    let n = 0;
    for (const key of [...this.lru.keys()]) {
      if (key.startsWith(prefix) && this.lru.delete(key)) n++;
    }
    return n;
  }

  get entries(): number {
    return this.lru.size;
  }

  get bytes(): number {
    return this.lru.calculatedSize;
  }

  clear(): void {
    this.lru.clear();
  }
}
