// The scoring stages of one model version, as the routes see them: records in, one score per
// record out (v1, WebSocket), or raw tensors in, outputs out (OIP v2).
//
// Two implementations, chosen per gateway at start-up:
//   BatcherScorer: straight to the scorer's Batcher (no cache tier configured).
//   CachedScorer (cache/stage.ts): L1 per request, then L2 once per tick for the L1 misses of
//   every request of that tick, then only the remaining misses to the Batcher.
// The scorer package knows nothing of caches: the dependency points one way.
import type { Batcher, CallOptions, Feeds, Output, ScorerError } from '@ortline/scorer';

/**
 * A request's cache directive: from `Cache-Control` over HTTP, the `cache` flag on WebSocket.
 * `internal`: the gateway's own calls (the warm-up row): not read, not stored, not counted.
 */
export type CacheDirective = 'default' | 'no-cache' | 'no-store' | 'internal';

/**
 * Where a request's scores came from: every row from one tier (`l1`, `l2`), every row computed
 * (`miss`), some of each (`mixed`), the client opted out (`bypass`), or no cache configured (`off`).
 * Sent as the `x-ortline-cache` response header.
 */
export type CacheSource = 'l1' | 'l2' | 'miss' | 'mixed' | 'bypass' | 'off';

export interface Scored {
  readonly scores: Float64Array;
  readonly source: CacheSource;
}

export interface Scorer {
  /**
   * One score per record, in order. Rejects with INVALID_FEATURES (every bad field), QUEUE_FULL,
   * BATCHER_CLOSED, and DEADLINE_EXCEEDED / CANCELLED per `call` (rows not run).
   */
  score(records: readonly unknown[], directive?: CacheDirective, call?: CallOptions): Promise<Scored>;
  /** Raw column feeds (OIP tensors). Not cached: the caller asked for tensors, not predictions. */
  infer(feeds: Feeds, rows: number, call?: CallOptions): Promise<Record<string, Output>>;
  /** Rows waiting: for a lookup or in the batcher's queue. */
  readonly queueRows: number;
  readonly inFlight: number;
  /** The QUEUE_FULL a call of `rows` rows arriving now would get (`Batcher.queueRefusal`), or undefined. */
  queueRefusal(rows: number): ScorerError | undefined;
  /** Stops taking calls; resolves when everything accepted has been answered. */
  close(): Promise<void>;
}

const off = (scores: Float64Array): Scored => ({ scores, source: 'off' });

/** No cache: straight to the Batcher. */
export class BatcherScorer implements Scorer {
  private readonly batcher: Batcher;
  constructor(batcher: Batcher) {
    this.batcher = batcher;
  }
  score(records: readonly unknown[], _directive?: CacheDirective, call?: CallOptions): Promise<Scored> {
    return this.batcher.predict(records, call).then(off);
  }
  infer(feeds: Feeds, rows: number, call?: CallOptions): Promise<Record<string, Output>> {
    return this.batcher.infer(feeds, rows, call);
  }
  get queueRows(): number {
    return this.batcher.stats.queueRows;
  }
  queueRefusal(rows: number): ScorerError | undefined {
    return this.batcher.queueRefusal(rows);
  }
  get inFlight(): number {
    return this.batcher.stats.inFlight;
  }
  close(): Promise<void> {
    return this.batcher.close();
  }
}
