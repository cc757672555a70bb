// The cache tiers of one gateway process, built once from the configuration: the L1 LRU (when
// enabled), the Redis client (when configured), the key prefix, and the admin flush.
import type { GatewayConfig } from '../config/options.js';
import type { Logger } from '../log.js';
import type { CacheGaugeSource, Metrics } from '../metrics/index.js';
import { L1Cache } from './l1.js';
import { L2Tier, l2Configured } from './l2.js';

export interface FlushResult {
  /** L1 entries deleted in this process. */
  readonly l1: number;
  /** L2 keys deleted, or null without L2. */
  readonly l2: number | null;
}

export class CacheTiers implements CacheGaugeSource {
  readonly l1: L1Cache | undefined;
  readonly l2: L2Tier | undefined;
  readonly keyPrefix: string;

  private constructor(l1: L1Cache | undefined, l2: L2Tier | undefined, keyPrefix: string) {
    this.l1 = l1;
    this.l2 = l2;
    this.keyPrefix = keyPrefix;
  }

  /** Undefined when no tier is on: the routes then go straight to the Batcher. */
  static create(config: GatewayConfig, metrics: Metrics, log: Logger): CacheTiers | undefined {
    const c = config.cache;
    const l1 = c.l1.enabled
      ? new L1Cache({ maxEntries: c.l1.maxEntries, maxBytes: c.l1.maxBytes, ttlMs: c.l1.ttlMs })
      : undefined;
    const l2Options = {
      url: config.redisUrl,
      cluster: c.l2.cluster,
      redisOptions: c.l2.redisOptions,
      timeoutMs: c.l2.timeoutMs,
      ttlMs: c.l2.ttlMs,
      breakerThreshold: c.l2.breakerThreshold,
      breakerCooldownMs: c.l2.breakerCooldownMs,
    };
    // Not awaited: the gateway starts and serves whether or not Redis is there.
    const l2 = l2Configured(l2Options) ? new L2Tier(l2Options, metrics.l2, log) : undefined;
    if (!l1 && !l2) return undefined;
    log.info(
      {
        l1: l1 ? { maxEntries: c.l1.maxEntries, maxBytes: c.l1.maxBytes, ttlMs: c.l1.ttlMs } : false,
        l2: l2 ? { timeoutMs: c.l2.timeoutMs, ttlMs: c.l2.ttlMs, cluster: c.l2.cluster.length > 0 } : false,
      },
      'cache tiers',
    );
    return new CacheTiers(l1, l2, c.l2.keyPrefix);
  }

  get l1Entries(): number {
    return this.l1?.entries ?? 0;
  }
  get l1Bytes(): number {
    return this.l1?.bytes ?? 0;
  }
  get l2Connected(): boolean | undefined {
    return this.l2?.connected;
  }
  get breaker() {
    return this.l2?.breakerState;
  }

  /** `<prefix>{<model>:` (every version) or `<prefix>{<model>:<version>}:` (one). */
  private modelPrefix(model: string, version?: string): string {
    return version === undefined ? `${this.keyPrefix}{${model}:` : `${this.keyPrefix}{${model}:${version}}:`;
  }

  /**
   * Deletes a model's entries (every version, or one): this process's L1 and the shared L2.
   * Other replicas' L1 entries stay until their TTL (cache.l1.ttlMs). Rejects when L2 is
   * configured and the flush did not reach it (L1 is flushed regardless: `l1Deleted` on the error).
   */
  async flush(model: string, version?: string): Promise<FlushResult> {
    const prefix = this.modelPrefix(model, version);
    const l1 = this.l1?.deletePrefix(prefix) ?? 0;
    if (!this.l2) return { l1, l2: null };
    try {
      const l2 = await this.l2.flush(`${globEscape(prefix)}${version === undefined ? '*}:*' : '*'}`);
      return { l1, l2 };
    } catch (err) {
      throw Object.assign(err as Error, { l1Deleted: l1 });
    }
  }

  /**
   * Drops this process's L1 entries of an unloaded version, so they stop holding memory. L2 keeps
   * its entries: other replicas may still serve that version, and keys carry the model file's
   * digest, so a different file under the same version number never reads them.
   */
  dropLocal(model: string, version: string): number {
    return this.l1?.deletePrefix(this.modelPrefix(model, version)) ?? 0;
  }

  async close(): Promise<void> {
    await this.l2?.close();
  }
}

/** Escapes Redis glob specials (`* ? [ ] \`) in a literal. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
