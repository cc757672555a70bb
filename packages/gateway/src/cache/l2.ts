// L2: Redis through ioredis (standalone, Sentinel or Cluster), shared by every model version and
// by every gateway replica that points at the same Redis.
//
// The promise: Redis is never on the critical path. A lookup (one MGET per micro-batch) gets
// `timeoutMs`; past it, or on any error, or when the client is not connected, the batch goes to
// inference without it. Calls that fail or time out feed a circuit breaker; while it is open there
// are no Redis calls at all. Stores (one pipeline of SET ... PX per micro-batch) happen after the
// answers went out and never hold anything up. ioredis is configured to fail fast instead of
// queueing: `enableOfflineQueue: false` (a command while disconnected fails at once),
// `maxRetriesPerRequest: 0` and `autoResendUnfulfilledCommands: false` (commands in flight when
// the connection drops fail instead of being replayed later). It reconnects by itself.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../config/options.js';
import type { Logger } from '../log.js';
import type { L2ErrorReason, L2Metric, L2SkipReason } from '../metrics/index.js';
import { type BreakerState, CircuitBreaker } from './breaker.js';

/** The `cache.l2` options (less the key prefix, which the stage applies) and the Redis URL. */
export type L2Options = Omit<GatewayConfig['cache']['l2'], 'keyPrefix'> & { readonly url: string | null };

/** Is there an L2 at all? (`redisUrl`, `cache.l2.cluster`, or Sentinel in `cache.l2.redisOptions`.) */
export function l2Configured(o: Pick<L2Options, 'url' | 'cluster' | 'redisOptions'>): boolean {
  return o.url !== null || o.cluster.length > 0 || Array.isArray(o.redisOptions.sentinels);
}

/** Options the degradation promise depends on: applied after the user's. */
const FAIL_FAST = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  lazyConnect: false,
} as const;
/** Defaults the user's options may change. */
const DEFAULTS = { connectTimeout: 1000, retryStrategy: (times: number) => Math.min(50 * times, 1000) } as const;

/** Stores still waiting for Redis past this many pipelines: later ones are dropped (Redis is slow). */
const MAX_PENDING_STORES = 64;

export class L2Tier {
  readonly client: Redis | Cluster;
  readonly breaker: CircuitBreaker;
  private readonly timeoutMs: number;
  private readonly ttl: string;
  private readonly metrics: L2Metric;
  private readonly log: Logger;
  private pendingStores = 0;
  private down = false;
  private closed = false;

  constructor(options: L2Options, metrics: L2Metric, log: Logger) {
    this.timeoutMs = options.timeoutMs;
    this.ttl = String(options.ttlMs);
    this.metrics = metrics;
    this.log = log.child({ component: 'cache-l2' });
    this.breaker = new CircuitBreaker({
      threshold: options.breakerThreshold,
      cooldownMs: options.breakerCooldownMs,
      onChange: (to, from) => {
        metrics.breaker(to);
        if (to === 'open')
          this.log.warn({ from }, 'L2 circuit breaker open: Redis is not called until a probe succeeds');
        else if (to === 'closed') this.log.info({ from }, 'L2 circuit breaker closed: Redis answers again');
      },
    });
    this.client = createClient(options);
    this.client.on('ready', () => {
      if (this.down) this.log.info('Redis connected again');
      else this.log.info('Redis connected');
      this.down = false;
    });
    // One line per outage, not one per reconnect attempt.
    this.client.on('error', (err: Error) => {
      if (this.down) return;
      this.down = true;
      this.log.warn(
        { err: { message: err.message, code: (err as { code?: string }).code } },
        'Redis unavailable: L2 skipped until it is back (requests are not affected)',
      );
    });
    this.client.on('close', () => {
      if (!this.closed && !this.down) {
        this.down = true;
        this.log.warn('Redis connection closed: L2 skipped until it is back (requests are not affected)');
      }
    });
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /**
   * One MGET for a batch's keys, settled within the budget: the values (null for a miss), or
   * undefined when it failed or ran out of time. Never rejects. When it cannot go at all, the
   * reason, synchronously.
   */
  lookup(keys: readonly string[]): Promise<(string | null)[] | undefined> | L2SkipReason {
    if (this.client.status !== 'ready') return 'not_connected';
    if (!this.breaker.allow()) return 'breaker_open';
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      // The budget ends on a timer, then one more event-loop turn: timers run before the poll
      // phase, so on a busy loop a reply that already sits in the socket would otherwise be thrown
      // away unread. setImmediate runs right after that poll phase: a reply that arrived in time is
      // used, one that did not is not waited for.
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (settled) return;
          settled = true;
          this.fail('lookup', 'timeout', started);
          resolve(undefined);
        });
      }, this.timeoutMs);
      this.client.mget(keys as string[]).then(
        (values) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.breaker.success();
          this.metrics.lookup((performance.now() - started) / 1000);
          resolve(values);
        },
        (err: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          this.fail('lookup', reasonOf(err), started);
          resolve(undefined);
        },
      );
    });
  }

  private fail(op: 'lookup', reason: L2ErrorReason, started: number): void {
    this.metrics.error(op, reason);
    this.metrics.lookup((performance.now() - started) / 1000);
    this.breaker.failure();
  }

  /**
   * Stores scores, one pipeline of `SET key value PX ttl`: fire and forget. Skipped while the
   * client is not connected or the breaker is not closed, and when Redis is already behind.
   */
  store(keys: readonly string[], values: readonly string[]): void {
    if (keys.length === 0) return;
    if (this.client.status !== 'ready' || this.breaker.state !== 'closed') return;
    if (this.pendingStores >= MAX_PENDING_STORES) {
      this.metrics.error('store', 'backlog');
      return;
    }
    const pipeline = this.client.pipeline();
    for (let i = 0; i < keys.length; i++) {
      if (this.ttl === '0') pipeline.set(keys[i]!, values[i]!);
      else pipeline.set(keys[i]!, values[i]!, 'PX', this.ttl);
    }
    this.pendingStores++;
    pipeline.exec().then(
      (results) => {
        this.pendingStores--;
        const failed = results?.find(([err]) => err !== null);
        if (failed) this.metrics.error('store', reasonOf(failed[0]));
      },
      (err: unknown) => {
        this.pendingStores--;
        this.metrics.error('store', reasonOf(err));
      },
    );
  }

  /**
   * Deletes every key matching `pattern` (SCAN + UNLINK, on every master of a Cluster). For the
   * admin flush: not on the request path, so it gets `timeoutMs` of 10 s, not the lookup budget.
   */
  async flush(pattern: string, timeoutMs = 10_000): Promise<number> {
    if (this.client.status !== 'ready') {
      this.metrics.error('flush', 'not_connected');
      throw new Error(`Redis is not connected (status ${this.client.status})`);
    }
    const nodes: Redis[] = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis flush took more than ${timeoutMs} ms`)), timeoutMs);
    });
    const work = (async () => {
      let deleted = 0;
      for (const node of nodes) {
        let cursor = '0';
        do {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length > 0) deleted += await node.unlink(...keys);
        } while (cursor !== '0');
      }
      return deleted;
    })();
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      this.metrics.error('flush', reasonOf(err));
      work.catch(() => {});
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** QUIT (answers in flight arrive first), at most 1 s; then the socket is closed. */
  async close(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.client.quit().catch(() => {}), new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    this.client.disconnect();
  }
}

function reasonOf(err: unknown): L2ErrorReason {
  const message = err instanceof Error ? err.message : String(err);
  if (/writeable|Connection is closed|MaxRetriesPerRequest|max retries per request/i.test(message))
    return 'not_connected';
  if (/timed? ?out/i.test(message)) return 'timeout';
  return 'error';
}

function createClient(o: L2Options): Redis | Cluster {
  const user = o.redisOptions as Record<string, unknown>;
  if (o.cluster.length > 0) {
    const nodes = o.cluster.map((hp) => {
      const i = hp.lastIndexOf(':');
      return i < 0 ? { host: hp, port: 6379 } : { host: hp.slice(0, i), port: Number(hp.slice(i + 1)) };
    });
    const userRedis = (user.redisOptions ?? {}) as RedisOptions;
    const options: ClusterOptions = {
      ...(user as ClusterOptions),
      enableOfflineQueue: false,
      redisOptions: { ...DEFAULTS, ...userRedis, ...FAIL_FAST },
    };
    return new Cluster(nodes, options);
  }
  const options: RedisOptions = { ...DEFAULTS, ...(user as RedisOptions), ...FAIL_FAST };
  return o.url !== null ? new Redis(o.url, options) : new Redis(options);
}
