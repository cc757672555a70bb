// The cache tiers' parts without a server or Redis: keys, L1 bounds, the circuit breaker, the
// per-request directives, and the cache options of the configuration.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureSchema, type FeatureSpec, type TensorInfo } from '@ortline/scorer';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type BreakerState, CircuitBreaker } from '../src/cache/breaker.js';
import { directiveOf, frameDirective } from '../src/cache/directive.js';
import { RowKeys } from '../src/cache/key.js';
import { L1_ENTRY_OVERHEAD, L1Cache } from '../src/cache/l1.js';
import { l2Configured } from '../src/cache/l2.js';
import { ConfigError, resolveConfig } from '../src/index.js';
import { churnDir, ensureBuilt, ortlineBin, parity } from './helpers.js';

const churn = JSON.parse(readFileSync(join(churnDir(), 'model.json'), 'utf8')) as { features: FeatureSpec[] };
const inputs: TensorInfo[] = churn.features.map((f) => ({ name: f.name, type: f.dtype, shape: [null, 1] }));
const schema = FeatureSchema.fromSpecs(churn.features, inputs, { passthrough: ['customer_id', 'customerID'] });
const { rows } = parity();

/** The keys of records, as the cache stage computes them (validate + columnize, then hash). */
function keysOf(keys: RowKeys, records: unknown[]): string[] {
  const cols = schema.allocate(records.length);
  const issues: unknown[] = [];
  schema.write(records, cols, 0, issues as never);
  expect(issues).toEqual([]);
  return records.map((_, r) => keys.key(cols, r));
}

describe('cache keys', () => {
  const v1 = new RowKeys(schema, 'ortline:', 'churn', '1');
  const v2 = new RowKeys(schema, 'ortline:', 'churn', '2');
  const base = rows[0]!.features as Record<string, unknown>;

  it('are <prefix>{<model>:<version>}:<22 base64url chars of SHA-256>', () => {
    const [k] = keysOf(v1, [base]);
    expect(k).toMatch(/^ortline:\{churn:1\}:[A-Za-z0-9_-]{22}$/);
  });

  it('hash the canonical values: field order, id fields and an omitted optional feature vs its null default do not matter', () => {
    const reversed = Object.fromEntries(Object.entries(base).reverse());
    const withId = { customer_id: 'C-1', ...base };
    const { TotalCharges: _omit, ...noTotal } = base;
    const [a, b, c] = keysOf(v1, [base, reversed, withId]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    const [d, e] = keysOf(v1, [noTotal, { ...noTotal, TotalCharges: null }]);
    expect(e).toBe(d);
    expect(d).not.toBe(a);
  });

  it('differ when anything the model sees differs, and per version', () => {
    const seen = new Set<string>();
    const variants = [
      base,
      { ...base, tenure: (base.tenure as number) + 1 },
      { ...base, gender: base.gender === 'Male' ? 'Female' : 'Male' },
      { ...base, MonthlyCharges: 94.5 },
    ];
    for (const k of keysOf(v1, variants)) seen.add(k);
    for (const k of keysOf(v2, variants)) seen.add(k);
    expect(seen.size).toBe(8);
    // Every parity row is a distinct customer: 300 distinct keys.
    expect(
      new Set(
        keysOf(
          v1,
          rows.map((r) => r.features),
        ),
      ).size,
    ).toBe(new Set(rows.map((r) => JSON.stringify(r.features))).size);
  });

  it('encode free strings (no category list) by length and bytes, so adjacent values cannot run together', () => {
    const specs: FeatureSpec[] = [
      { name: 'a', kind: 'categorical', dtype: 'string', required: true },
      { name: 'b', kind: 'categorical', dtype: 'string', required: true },
    ];
    const s = FeatureSchema.fromSpecs(
      specs,
      specs.map((f) => ({ name: f.name, type: 'string', shape: [null, 1] })),
    );
    const keys = new RowKeys(s, 'p:', 'm', '1');
    const cols = s.allocate(4);
    s.write(
      [
        { a: 'ab', b: 'c' },
        { a: 'a', b: 'bc' },
        { a: 'é'.repeat(20), b: '' },
        { a: 'ab', b: 'c' },
      ],
      cols,
      0,
      [],
    );
    const k = [0, 1, 2, 3].map((r) => keys.key(cols, r));
    expect(new Set(k.slice(0, 3)).size).toBe(3);
    expect(k[3]).toBe(k[0]);

    // With a model digest: every key changes, and stays put after the buffer grew for a long string.
    const digest = new Uint8Array(32).fill(7);
    const other = new Uint8Array(32).fill(8);
    const withDigest = new RowKeys(s, 'p:', 'm', '1', digest);
    const d = [0, 1, 2, 3, 0].map((r) => withDigest.key(cols, r));
    for (let r = 0; r < 4; r++) expect(d[r]).not.toBe(k[r]);
    expect(d[3]).toBe(d[0]);
    expect(d[4]).toBe(d[0]);
    expect(new RowKeys(s, 'p:', 'm', '1', digest).key(cols, 2)).toBe(d[2]);
    expect(new RowKeys(s, 'p:', 'm', '1', other).key(cols, 0)).not.toBe(d[0]);
  });
});

describe('L1', () => {
  it('is bounded by entries: the least recently used goes first', () => {
    const l1 = new L1Cache({ maxEntries: 3, maxBytes: 1 << 20, ttlMs: 0 });
    for (const k of ['a', 'b', 'c']) l1.set(k, 1);
    expect(l1.get('a')).toBe(1); // a is now the most recent
    l1.set('d', 4);
    expect(l1.get('b')).toBeUndefined();
    expect(l1.get('a')).toBe(1);
    expect(l1.entries).toBe(3);
  });

  it('is bounded by estimated bytes (key length + overhead)', () => {
    const key = (i: number) => `ortline:{churn:1}:${String(i).padStart(22, '0')}`; // 40 chars
    const per = 40 + L1_ENTRY_OVERHEAD;
    const l1 = new L1Cache({ maxEntries: 1000, maxBytes: per * 10, ttlMs: 0 });
    for (let i = 0; i < 25; i++) l1.set(key(i), i);
    expect(l1.entries).toBe(10);
    expect(l1.bytes).toBe(per * 10);
    expect(l1.get(key(24))).toBe(24);
    expect(l1.get(key(14))).toBeUndefined();
  });

  it('expires entries after the TTL, and flushes by prefix', async () => {
    const l1 = new L1Cache({ maxEntries: 100, maxBytes: 1 << 20, ttlMs: 60 });
    l1.set('ortline:{churn:1}:x', 0.5);
    l1.set('ortline:{churn:2}:x', 0.6);
    l1.set('ortline:{churnx:1}:x', 0.7);
    expect(l1.get('ortline:{churn:1}:x')).toBe(0.5);
    expect(l1.deletePrefix('ortline:{churn:')).toBe(2);
    expect(l1.get('ortline:{churnx:1}:x')).toBe(0.7);
    await new Promise((r) => setTimeout(r, 120));
    expect(l1.get('ortline:{churnx:1}:x')).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  function breaker() {
    let t = 0;
    const moves: BreakerState[] = [];
    const b = new CircuitBreaker({ threshold: 3, cooldownMs: 100, now: () => t, onChange: (to) => moves.push(to) });
    return { b, moves, advance: (ms: number) => (t += ms) };
  }

  it('opens after `threshold` consecutive failures; a success in between resets the count', () => {
    const { b, moves } = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    expect(moves).toEqual(['open']);
  });

  it('after the cooldown lets exactly one probe through; its success closes, its failure reopens', () => {
    const { b, moves, advance } = breaker();
    for (let i = 0; i < 3; i++) b.failure();
    advance(99);
    expect(b.allow()).toBe(false);
    advance(1);
    expect(b.allow()).toBe(true); // the probe
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(false); // only one at a time
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    advance(100);
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(moves).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });
});

describe('per-request directives', () => {
  it('reads Cache-Control tokens: no-store wins over no-cache, other directives are ignored', () => {
    expect(directiveOf('')).toBe('default');
    expect(directiveOf('no-cache')).toBe('no-cache');
    expect(directiveOf('max-age=0, No-Cache')).toBe('no-cache');
    expect(directiveOf('no-cache, no-store')).toBe('no-store');
    expect(directiveOf('max-age=60')).toBe('default');
    expect(directiveOf('no-cachex')).toBe('default');
  });

  it('reads the WebSocket frame flag and rejects anything else', () => {
    expect(frameDirective(undefined)).toBe('default');
    expect(frameDirective(false)).toBe('no-cache');
    expect(frameDirective('no-store')).toBe('no-store');
    expect(() => frameDirective('off')).toThrow(/"cache" must be/);
  });
});

describe('cache configuration', () => {
  it('defaults: L1 on, no L2; REDIS_URL, Cluster nodes or Sentinel options turn L2 on', () => {
    const c = resolveConfig();
    expect(c.cache.l1.enabled).toBe(true);
    expect(c.cache.l2.timeoutMs).toBe(5);
    expect(l2Configured({ url: c.redisUrl, cluster: c.cache.l2.cluster, redisOptions: c.cache.l2.redisOptions })).toBe(
      false,
    );
    const e = resolveConfig({ env: { REDIS_URL: 'redis://r:6379' } });
    expect(l2Configured({ url: e.redisUrl, cluster: e.cache.l2.cluster, redisOptions: e.cache.l2.redisOptions })).toBe(
      true,
    );
    expect(l2Configured({ url: null, cluster: ['a:7000'], redisOptions: {} })).toBe(true);
    expect(
      l2Configured({ url: null, cluster: [], redisOptions: { sentinels: [{ host: 's', port: 26379 }], name: 'm' } }),
    ).toBe(true);
  });

  it('takes nested groups from a config file, JSON objects from flags, and validates them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ortline-cache-config-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'c.json');
    writeFileSync(
      file,
      JSON.stringify({
        cache: { l1: { maxEntries: 5 }, l2: { redisOptions: { sentinels: [{ host: 's', port: 1 }], name: 'm' } } },
      }),
    );
    const c = resolveConfig({ file, flags: { 'cache.l2.timeoutMs': '2.5' } });
    expect(c.cache.l1.maxEntries).toBe(5);
    expect(c.cache.l1.ttlMs).toBe(60_000);
    expect(c.cache.l2.timeoutMs).toBe(2.5);
    expect(c.cache.l2.redisOptions).toEqual({ sentinels: [{ host: 's', port: 1 }], name: 'm' });
    expect(Object.isFrozen(c.cache.l2.redisOptions)).toBe(true);
    expect(Object.isFrozen(c.cache.l1)).toBe(true);
    expect(resolveConfig({ flags: { 'cache.l2.redisOptions': '{"db":2}' } }).cache.l2.redisOptions).toEqual({ db: 2 });
    expect(() => resolveConfig({ flags: { 'cache.l2.redisOptions': '[1]' } })).toThrow(/must be a JSON object/);
    expect(() => resolveConfig({ flags: { 'cache.l2.redisOptions': '{db' } })).toThrow(ConfigError);
    expect(() => resolveConfig({ overrides: { cache: { l1: { maxEntrys: 1 } } } as never })).toThrow(
      /unknown option "cache.l1.maxEntrys"/,
    );
    expect(() => resolveConfig({ overrides: { cache: { l2: { timeoutMs: 0 } } } })).toThrow(
      /"cache.l2.timeoutMs" must be >= 0.1/,
    );
  });

  it('`ortline config` masks the admin token and the Redis password', () => {
    ensureBuilt();
    const r = spawnSync(process.execPath, [ortlineBin, 'config'], {
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: 'redis://app:s3cret@cache:6379/1', ORTLINE_ADMIN_TOKEN: 'tok-123' },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('s3cret');
    expect(r.stdout).not.toContain('tok-123');
    const c = JSON.parse(r.stdout);
    expect(c.redisUrl).toBe('redis://app:***@cache:6379/1');
    expect(c.admin.token).toBe('***');
  });
});
