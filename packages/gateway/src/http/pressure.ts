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
// - the model version's batcher already expects a wait past `batcher.maxQueueMs`, or the version
//   already has `batcher.maxQueueRows` rows waiting (for a run, or for an L2 lookup that may send
//   them to one): the batcher would refuse the request after its parse anyway.
// Either refuses with QUEUE_FULL (`overloadStatus`, Retry-After) once the body has gone by unread.

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

export type ShedReason = 'event_loop' | 'queue_time' | 'queue_rows';

export interface Shedder {
  /** Undefined when `maxEventLoopDelayMs` is 0 (off). */
  readonly lag: LoopLag | undefined;
  readonly maxEventLoopDelayMs: number;
  /** `batcher.maxQueueMs` (0: off). */
  readonly maxQueueMs: number;
  /** `batcher.maxQueueRows`. */
  readonly maxQueueRows: number;
  /** Counts a refusal (metric). */
  readonly count: (reason: ShedReason) => void;
}

export interface ShedVerdict {
  readonly reason: ShedReason;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

/**
 * Whether a request for a version whose batcher expects `waitMs` and holds `queueRows` is refused
 * before its body.
 */
export function shedVerdict(s: Shedder, waitMs: number, queueRows: number): ShedVerdict | undefined {
  const lag = s.lag;
  if (lag !== undefined && lag.lagMs > s.maxEventLoopDelayMs) {
    const late = Math.round(lag.lagMs);
    return {
      reason: 'event_loop',
      message: `overloaded: the event loop runs ${late} ms late, past maxEventLoopDelayMs (${s.maxEventLoopDelayMs} ms)`,
      details: { reason: 'event_loop', eventLoopDelayMs: late, maxEventLoopDelayMs: s.maxEventLoopDelayMs },
    };
  }
  if (s.maxQueueMs > 0 && waitMs > s.maxQueueMs) {
    const wait = Math.round(waitMs);
    return {
      reason: 'queue_time',
      message: `queue full: a run would start in about ${wait} ms, past maxQueueMs (${s.maxQueueMs} ms)`,
      details: { reason: 'queue_time', estimatedWaitMs: wait, maxQueueMs: s.maxQueueMs },
    };
  }
  if (queueRows >= s.maxQueueRows) {
    return {
      reason: 'queue_rows',
      message: `queue full: ${queueRows} rows waiting, at maxQueueRows (${s.maxQueueRows})`,
      details: { reason: 'queue_rows', queueRows, maxQueueRows: s.maxQueueRows },
    };
  }
  return undefined;
}
