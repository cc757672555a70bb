// Load shedding before a scoring request's body is parsed.
//
// Past capacity, the work that piles up first is not in the batcher's queue but in front of the
// event loop: requests sit in their sockets until the loop, busy parsing the ones before them,
// gets to them. The server's own clocks (a request's start, its deadline) only begin once it does,
// so admission by queue time alone sees nothing, and parsing bodies only to refuse them afterwards
// takes the CPU the accepted requests needed (good throughput collapses). Two checks, made when a
// request's headers arrive and before its body is parsed:
// - the event loop runs late: a timer every SAMPLE_MS measures how late it fires, which, with one
//   request in flight per connection, is how long a request now arriving waited unseen. Two late
//   samples in a row are needed: one long turn (a major GC, one very large body) is not overload,
//   and the requests behind it are better served a little late than refused;
// - the model version's batcher would refuse a request of one row for its queue (it expects a wait
//   past `batcher.maxQueueMs`, or holds `batcher.maxQueueRows` rows, counting those awaiting an L2
//   lookup): it would refuse the request after its parse anyway. The batcher answers this itself
//   (`Batcher.queueRefusal`), so the two refusals cannot disagree.
// Either refuses with QUEUE_FULL (`overloadStatus`, Retry-After) once the body has gone by unread.

import type { ScorerError } from '@ortline/scorer';

const SAMPLE_MS = 10;

/** How late the event loop runs, in ms: the lesser of the last two samples. */
export class LoopLag {
  lagMs = 0;
  private previous = 0;
  private expected = 0;
  private timer: NodeJS.Timeout | undefined;

  start(): void {
    this.expected = performance.now() + SAMPLE_MS;
    this.timer = setInterval(() => {
      const now = performance.now();
      const late = Math.max(0, now - this.expected);
      this.expected = now + SAMPLE_MS;
      this.lagMs = Math.min(late, this.previous);
      this.previous = late;
    }, SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export const SHED_REASONS = ['event_loop', 'queue_time', 'queue_rows'] as const;
export type ShedReason = (typeof SHED_REASONS)[number];

export interface Shedder {
  /** Undefined when `maxEventLoopDelayMs` is 0 (off). */
  readonly lag: LoopLag | undefined;
  readonly maxEventLoopDelayMs: number;
  /** Counts a refusal (metric). */
  readonly count: (reason: ShedReason) => void;
}

/** What a model version's queue says about a request of `rows` rows arriving now. */
export interface QueueGate {
  queueRefusal(rows: number): ScorerError | undefined;
}

export interface ShedVerdict {
  readonly reason: ShedReason;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/** Whether a request for the version behind `queue` is refused before its body. */
export function shedVerdict(s: Shedder, queue: QueueGate): ShedVerdict | undefined {
  const lag = s.lag;
  if (lag !== undefined && lag.lagMs > s.maxEventLoopDelayMs) {
    const late = Math.round(lag.lagMs);
    return {
      reason: 'event_loop',
      message: `overloaded: the event loop runs ${late} ms late, past maxEventLoopDelayMs (${s.maxEventLoopDelayMs} ms)`,
      details: { reason: 'event_loop', eventLoopDelayMs: late, maxEventLoopDelayMs: s.maxEventLoopDelayMs },
    };
  }
  // The body, unread, may hold any number of rows: a request of one is the least refused.
  const refusal = queue.queueRefusal(1);
  if (refusal === undefined) return undefined;
  const details = refusal.details ?? {};
  const reason = details.reason === 'queue_time' ? 'queue_time' : 'queue_rows';
  return { reason, message: refusal.message, details };
}
