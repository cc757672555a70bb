// The scoring stages of one model version, as the routes see them: records in, one score per
// record out (v1, WebSocket), or raw tensors in, outputs out (OIP v2).
//
// Today there is one stage: the scorer's Batcher (validate + columnize into the next
// micro-batch, one native run per batch, off the event loop). The cache tiers (issue 5) go here
// as wrappers with the same interface, so no route changes:
//   L1 (in-process LRU): per request, in front of the batcher; a full hit never queues.
//   L2 (Redis): per micro-batch, between the queue flush and the native run (one MGET per
//   batch); that needs a per-batch hook in the Batcher, see the gateway README.
import type { Batcher, Feeds, Output } from '@ortline/scorer';

export interface Scorer {
  /** One score per record, in order. Rejects with INVALID_FEATURES (every bad field), QUEUE_FULL, BATCHER_CLOSED. */
  score(records: readonly unknown[]): Promise<Float64Array>;
  /** Raw column feeds (OIP tensors). Not cached: the caller asked for tensors, not predictions. */
  infer(feeds: Feeds, rows: number): Promise<Record<string, Output>>;
  readonly queueRows: number;
  readonly inFlight: number;
  /** Stops taking calls; resolves when everything accepted has been answered. */
  close(): Promise<void>;
}

/** The only stage today: straight to the Batcher. */
export class BatcherScorer implements Scorer {
  private readonly batcher: Batcher;
  constructor(batcher: Batcher) {
    this.batcher = batcher;
  }
  score(records: readonly unknown[]): Promise<Float64Array> {
    return this.batcher.predict(records);
  }
  infer(feeds: Feeds, rows: number): Promise<Record<string, Output>> {
    return this.batcher.infer(feeds, rows);
  }
  get queueRows(): number {
    return this.batcher.stats.queueRows;
  }
  get inFlight(): number {
    return this.batcher.stats.inFlight;
  }
  close(): Promise<void> {
    return this.batcher.close();
  }
}
