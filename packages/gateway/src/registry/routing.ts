// Which versions of a model take traffic: models/<name>/serving.json,
//   {"active": "1", "previous": null, "canary": {"version": "2", "weight": 0.1} | null, "shadow": "2" | null}
// read at start and rewritten atomically when an operator changes the routing. The older ACTIVE
// file (one version number) is still read when there is no serving.json. The rule is shared with
// the training pipeline (models/training/churn_training/repository.py) and pinned by
// testdata/routing.json, which both test suites run.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface Canary {
  readonly version: string;
  /** The share of records (0..1) the canary answers. */
  readonly weight: number;
}

export interface Routing {
  readonly active: string;
  /** What a rollback makes active again; null when there is nothing to go back to. */
  readonly previous: string | null;
  readonly canary: Canary | null;
  readonly shadow: string | null;
}

export const SERVING_FILE = 'serving.json';
export const ACTIVE_FILE = 'ACTIVE';

/** A positive integer without leading zeros: `01` and `1` cannot both be version 1. */
export const VERSION = /^[1-9][0-9]*$/;

export class RoutingError extends Error {
  override readonly name = 'RoutingError';
  /** The field at fault, when one is. */
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super(message);
    this.field = field;
  }
}

const KEYS = new Set(['active', 'previous', 'canary', 'shadow']);
const CANARY_KEYS = new Set(['version', 'weight']);

/** A version as written in the file: its directory name as a string, or the same as a JSON integer. */
function versionName(value: unknown, field: string, where: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return String(value);
  if (typeof value === 'string' && VERSION.test(value)) return value;
  throw new RoutingError(
    `${where}: "${field}" must be a version (a positive integer without leading zeros), got ${JSON.stringify(value)}`,
    field,
  );
}

/**
 * The routing a serving.json text describes, checked against the versions that exist: the
 * active, canary and shadow versions must be among them; `previous` need not (a rollback to a
 * removed version is refused when asked for, not at start).
 */
export function parseRouting(text: string, versions: readonly string[], where: string): Routing {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new RoutingError(`${where}: not JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new RoutingError(`${where}: must be a JSON object with "active"`);
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.has(k));
  if (unknown.length > 0)
    throw new RoutingError(`${where}: unknown field(s) ${unknown.join(', ')} (allowed: ${[...KEYS].join(', ')})`);
  if (o.active === undefined) throw new RoutingError(`${where}: "active" is required`);
  const active = versionName(o.active, 'active', where);
  const previous = o.previous == null ? null : versionName(o.previous, 'previous', where);
  const canary = o.canary == null ? null : canaryOf(o.canary, where);
  const shadow = o.shadow == null ? null : versionName(o.shadow, 'shadow', where);
  return checkRouting({ active, previous, canary, shadow }, versions, where);
}

function canaryOf(value: unknown, where: string): Canary {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new RoutingError(`${where}: "canary" must be null or {"version", "weight"}`, 'canary');
  const c = value as Record<string, unknown>;
  const extra = Object.keys(c).filter((k) => !CANARY_KEYS.has(k));
  if (extra.length > 0)
    throw new RoutingError(`${where}: unknown field(s) canary.${extra.join(', canary.')}`, `canary.${extra[0]}`);
  const weight = c.weight;
  if (typeof weight !== 'number' || !(weight >= 0 && weight <= 1))
    throw new RoutingError(
      `${where}: "canary.weight" must be a number from 0 to 1, got ${JSON.stringify(weight)}`,
      'canary.weight',
    );
  return { version: versionName(c.version, 'canary.version', where), weight };
}

/** What an operator asks to change (any of active, canary, shadow; null clears canary or shadow). */
export function parseRoutingChange(value: unknown, where: string): RoutingChange {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new RoutingError(`${where}: expected an object with any of "active", "canary", "shadow"`);
  const o = value as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'active' && k !== 'canary' && k !== 'shadow');
  if (unknown.length > 0)
    throw new RoutingError(
      `${where}: unknown field(s) ${unknown.join(', ')} (allowed: active, canary, shadow; "previous" moves by itself)`,
      unknown[0],
    );
  if (Object.keys(o).length === 0) throw new RoutingError(`${where}: nothing to change`);
  if (o.active === null) throw new RoutingError(`${where}: "active" cannot be cleared`, 'active');
  return {
    ...(o.active !== undefined ? { active: versionName(o.active, 'active', where) } : {}),
    ...(o.canary !== undefined ? { canary: o.canary === null ? null : canaryOf(o.canary, where) } : {}),
    ...(o.shadow !== undefined ? { shadow: o.shadow === null ? null : versionName(o.shadow, 'shadow', where) } : {}),
  };
}

/** A change of routing as an operator asks for it: absent fields stay, null clears. */
export interface RoutingChange {
  readonly active?: string;
  readonly canary?: Canary | null;
  readonly shadow?: string | null;
}

/** The rules a routing obeys whoever wrote it (the file, or an operator through the admin API). */
export function checkRouting(r: Routing, versions: readonly string[], where: string): Routing {
  const have = `(have: ${versions.join(', ')})`;
  for (const [field, v] of [
    ['active', r.active],
    ['canary.version', r.canary?.version],
    ['shadow', r.shadow],
  ] as const) {
    if (v != null && !versions.includes(v))
      throw new RoutingError(`${where}: "${field}" names version ${v}, which is not a loadable version ${have}`);
  }
  if (r.canary && r.canary.version === r.active)
    throw new RoutingError(`${where}: the canary version ${r.active} is already the active one`);
  if (r.shadow !== null && r.shadow === r.active)
    throw new RoutingError(`${where}: the shadow version ${r.active} is already the active one`);
  if (r.shadow !== null && r.shadow === r.canary?.version)
    throw new RoutingError(`${where}: version ${r.shadow} cannot be both canary and shadow`);
  return r;
}

/** The routing of a model without serving.json: the ACTIVE file's version, else the highest. */
export function defaultRouting(versions: readonly string[], activeFile: string | undefined, where: string): Routing {
  let active = versions[versions.length - 1]!;
  if (activeFile !== undefined) {
    const wanted = activeFile.trim();
    if (!VERSION.test(wanted) || !versions.includes(wanted))
      throw new RoutingError(
        `${where} names version "${wanted}", which is not a loadable version (have: ${versions.join(', ')})`,
      );
    active = wanted;
  }
  return { active, previous: null, canary: null, shadow: null };
}

/** The file's text: fixed key order, so a rewrite without a change is byte-identical. */
export function routingJson(r: Routing): string {
  const canary = r.canary ? { version: r.canary.version, weight: r.canary.weight } : null;
  return `${JSON.stringify({ active: r.active, previous: r.previous, canary, shadow: r.shadow }, null, 2)}\n`;
}

/**
 * Writes models/<name>/serving.json so that a reader (or a crash) sees the old file or the new
 * one, never half of one: a temporary file beside it, flushed, then renamed over it.
 */
export function writeRouting(modelDir: string, r: Routing): void {
  const path = join(modelDir, SERVING_FILE);
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, routingJson(r));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The rename itself is durable only once the directory is flushed.
  const dirFd = openSync(modelDir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
