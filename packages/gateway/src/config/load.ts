// Resolves the configuration once, at start-up: defaults < config file < environment < CLI flags
// < programmatic overrides. Every value is checked against its spec (unknown keys included), the
// result is frozen, and nothing reads configuration after that.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type GatewayConfig, type GatewayConfigInput, OPTIONS, type OptionSpec } from './options.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface ConfigSources {
  /** Path of a JSON config file (nested like the config object). */
  readonly file?: string | undefined;
  /** Environment to read (`PORT`, `HOST`, ...); pass `process.env` from the CLI. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Option key -> raw string value, as the CLI parsed them. */
  readonly flags?: Readonly<Record<string, string>>;
  /** Typed values that win over everything (tests, embedding). */
  readonly overrides?: GatewayConfigInput;
}

const BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(OPTIONS.map((o) => [o.key, o]));
/** Every proper prefix of a dotted key (`cache`, `cache.l1`, ...): the nested objects of a config. */
const GROUPS: ReadonlySet<string> = new Set(
  OPTIONS.flatMap((o) => {
    const parts = o.key.split('.');
    return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

/** The defaults, as one nested object (what CONFIG.md documents). */
export function defaultConfig(): GatewayConfig {
  const flat = new Map<string, unknown>();
  for (const o of OPTIONS) flat.set(o.key, o.default);
  return build(flat);
}

export function resolveConfig(sources: ConfigSources = {}): GatewayConfig {
  const flat = new Map<string, unknown>();
  for (const o of OPTIONS) flat.set(o.key, o.default);

  if (sources.file) {
    const path = resolve(sources.file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`config file ${path}: cannot read it (${(err as Error).message})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`config file ${path}: not valid JSON (${(err as Error).message})`);
    }
    mergeTyped(flat, parsed, `config file ${path}`);
  }

  if (sources.env) {
    for (const o of OPTIONS) {
      if (!o.env) continue;
      const raw = sources.env[o.env];
      if (raw !== undefined && raw !== '') flat.set(o.key, parseRaw(o, raw, `environment ${o.env}`));
    }
  }

  if (sources.flags) {
    for (const [key, raw] of Object.entries(sources.flags)) {
      const o = BY_KEY.get(key);
      if (!o) throw new ConfigError(`unknown option "${key}"`);
      flat.set(key, parseRaw(o, raw, `flag for ${key}`));
    }
  }

  if (sources.overrides) mergeTyped(flat, sources.overrides, 'overrides');
  if ((flat.get('tls.cert') === null) !== (flat.get('tls.key') === null))
    throw new ConfigError('tls.cert and tls.key go together: give both (HTTPS) or neither (HTTP)');
  return build(flat);
}

function mergeTyped(flat: Map<string, unknown>, input: unknown, source: string, prefix = ''): void {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new ConfigError(
      `${source}: ${prefix === '' ? 'must be an object' : `"${prefix.slice(0, -1)}" must be an object`}`,
    );
  for (const [k, v] of Object.entries(input)) {
    const key = prefix + k;
    // An option's own key wins over a group of the same name (an object-typed option is a leaf).
    if (!BY_KEY.has(key) && GROUPS.has(key)) mergeTyped(flat, v, source, `${key}.`);
    else setTyped(flat, key, v, source);
  }
}

function setTyped(flat: Map<string, unknown>, key: string, value: unknown, source: string): void {
  const o = BY_KEY.get(key);
  if (!o) throw new ConfigError(`${source}: unknown option "${key}" (known: ${OPTIONS.map((x) => x.key).join(', ')})`);
  if (value === undefined) return;
  flat.set(key, check(o, value, source));
}

function parseRaw(o: OptionSpec, raw: string, source: string): unknown {
  switch (o.type) {
    case 'port':
    case 'int':
    case 'number': {
      const n = Number(raw.trim());
      if (raw.trim() === '' || Number.isNaN(n)) throw new ConfigError(`${source}: "${raw}" is not a number`);
      return check(o, n, source);
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(v)) return true;
      if (['false', '0', 'no', 'off'].includes(v)) return false;
      throw new ConfigError(`${source}: "${raw}" is not a boolean (true/false)`);
    }
    case 'string-list':
      return check(
        o,
        raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
        source,
      );
    case 'nullable-string':
      return check(o, raw, source);
    case 'object': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        throw new ConfigError(`${source}: "${raw}" is not a JSON object (${(err as Error).message})`);
      }
      return check(o, parsed, source);
    }
    default:
      return check(o, raw, source);
  }
}

function check(o: OptionSpec, v: unknown, source: string): unknown {
  const fail = (expected: string): never => {
    throw new ConfigError(`${source}: option "${o.key}" must be ${expected}, got ${JSON.stringify(v)}`);
  };
  switch (o.type) {
    case 'string':
      if (typeof v !== 'string' || v === '') fail('a non-empty string');
      return v;
    case 'nullable-string':
      if (v !== null && (typeof v !== 'string' || v === '')) fail('a non-empty string or null');
      return v;
    case 'port':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) fail('an integer port in [0, 65535]');
      return v;
    case 'int':
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail('a finite number');
      const n = v as number;
      if (o.type === 'int' && !Number.isSafeInteger(n)) fail('an integer');
      if (o.min !== undefined && n < o.min) fail(`>= ${o.min}`);
      if (o.max !== undefined && n > o.max) fail(`<= ${o.max}`);
      return n;
    }
    case 'boolean':
      if (typeof v !== 'boolean') fail('a boolean');
      return v;
    case 'enum': {
      const s = typeof v === 'number' ? String(v) : v;
      if (typeof s !== 'string' || !o.values!.includes(s)) fail(`one of ${o.values!.join(', ')}`);
      return s;
    }
    case 'string-list':
      if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || s === '')) fail('an array of non-empty strings');
      return Object.freeze([...(v as string[])]);
    case 'object':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('a JSON object');
      return deepFreeze(structuredClone(v));
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function build(flat: ReadonlyMap<string, unknown>): GatewayConfig {
  const out: Record<string, unknown> = {};
  for (const [key, value] of flat) {
    const path = key.split('.');
    let node = out;
    for (let i = 0; i < path.length - 1; i++) {
      node[path[i]!] ??= {};
      node = node[path[i]!] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = value;
  }
  // Deeply: the groups, and default values (arrays, objects) shared with the option table.
  return deepFreeze(out) as unknown as GatewayConfig;
}
