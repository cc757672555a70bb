// Circuit breaker for the L2 cache. Closed: calls go. `threshold` consecutive failures open it:
// no calls at all for `cooldownMs`. Then one call may go as a probe (half-open); its success
// closes the breaker, its failure opens it for another cooldown. Only one probe at a time: the
// other batches skip L2 until the probe has answered.

export type BreakerState = 'closed' | 'half-open' | 'open';

/** Gauge values: what `ortline_cache_breaker_state` reports. */
export const BREAKER_GAUGE: Readonly<Record<BreakerState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export class CircuitBreaker {
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private readonly onChange: (to: BreakerState, from: BreakerState) => void;
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;

  constructor(options: {
    threshold: number;
    cooldownMs: number;
    onChange?: (to: BreakerState, from: BreakerState) => void;
    now?: () => number;
  }) {
    this.threshold = options.threshold;
    this.cooldownMs = options.cooldownMs;
    this.onChange = options.onChange ?? (() => {});
    this.now = options.now ?? (() => performance.now());
  }

  get state(): BreakerState {
    return this.current;
  }

  /**
   * May a call go now? In half-open, `true` means this call is the probe: the caller must report
   * its outcome with success() or failure().
   */
  allow(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open') {
      if (this.now() - this.openedAt < this.cooldownMs) return false;
      this.move('half-open');
    }
    if (this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.move('closed');
  }

  failure(): void {
    this.probing = false;
    if (this.current === 'half-open' || ++this.failures >= this.threshold) {
      this.openedAt = this.now();
      this.failures = 0;
      if (this.current !== 'open') this.move('open');
    }
  }

  private move(to: BreakerState): void {
    const from = this.current;
    this.current = to;
    this.onChange(to, from);
  }
}
