// Which version answers each record. A request that names a version gets that version. Otherwise
// each record goes to the canary when its id falls in the canary's share, else to the active
// version. The share is a hash of the model name and the record's id (the card's id field), so
// one customer always gets the same version, on every replica and after restarts; records
// without an id are split at random. The pick and the hand-over to the scorer happen in one turn
// of the event loop, so a version picked is never one that has started draining (registry.ts).
import { type CallOptions, ScorerError } from '@ortline/scorer';
import type { ModelEntry } from '../registry/entry.js';
import { type ModelVersion, versionHeaders } from '../registry/model-version.js';
import type { CacheDirective, CacheSource } from './scorer.js';
import { mirror, type ShadowScores } from './shadow.js';

/**
 * FNV-1a (32 bits) of `model \0 id`, mixed with MurmurHash3's finaliser, as a share in [0, 1).
 * FNV alone leaves ids that differ only in their last characters (cust-1, cust-2) with nearly
 * the same high bits, which would send whole id ranges to one version.
 */
export function canaryShare(model: string, id: string): number {
  let h = 0x811c9dc5;
  const s = `${model}\u0000${id}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** The version for one record: the canary when its id's share is under the weight, else active. */
export function pick(entry: ModelEntry, record: unknown): ModelVersion {
  const canary = entry.canary;
  const active = entry.active;
  if (canary === null) return active;
  const id = active.answers.recordId(record);
  const share = typeof id === 'string' || typeof id === 'number' ? canaryShare(entry.name, String(id)) : Math.random();
  return share < canary.weight ? canary.mv : active;
}

export interface RoutedScores {
  readonly scores: Float64Array;
  readonly source: CacheSource;
  /** The version that answered every record, or each record's version when they differ. */
  readonly versions: ModelVersion | readonly ModelVersion[];
  /** `1`, or `1,2` when records went to both the active version and the canary. */
  readonly header: string;
  /** The request named its version. */
  readonly pinned: boolean;
  /** The canary version the rows were routed under (null: none, or pinned). */
  readonly canary: ModelVersion | null;
  /** The shadow's scores of the same records, once it has scored them (when they were mirrored). */
  readonly shadowed?: Promise<ShadowScores | null>;
}

/** How record i's version was chosen: `pinned`, `canary` or `active`. */
export function routeAt(r: RoutedScores, i: number): 'pinned' | 'canary' | 'active' {
  if (r.pinned) return 'pinned';
  return r.canary !== null && versionAt(r, i) === r.canary ? 'canary' : 'active';
}

const merge = (a: CacheSource, b: CacheSource): CacheSource => (a === b ? a : 'mixed');

/**
 * Scores records, each with its version. `pinned`: the version the request named ('' for none).
 * Every version is chosen and handed its rows before the first await.
 */
export async function scoreRouted(
  entry: ModelEntry,
  pinned: string,
  records: readonly unknown[],
  directive: CacheDirective,
  call?: CallOptions,
): Promise<RoutedScores> {
  if (pinned !== '') {
    const mv = entry.resolve(pinned);
    const { scores, source } = await mv.scorer.score(records, directive, call);
    mv.scored('pinned', records, scores);
    return { scores, source, versions: mv, header: mv.version, pinned: true, canary: null };
  }
  const routed = await scoreLive(entry, records, directive, call);
  if (entry.shadow === null) return routed;
  const shadowed = mirror(entry, records, routed, entry.shadowLimits);
  return shadowed === null ? routed : { ...routed, shadowed };
}

/** The live answer: active version and canary. */
async function scoreLive(
  entry: ModelEntry,
  records: readonly unknown[],
  directive: CacheDirective,
  call: CallOptions | undefined,
): Promise<RoutedScores> {
  // As routed now: the routing may change while the rows are scored.
  const active = entry.active;
  const canary = entry.canary;
  if (canary === null) {
    const { scores, source } = await active.scorer.score(records, directive, call);
    active.scored('active', records, scores);
    return { scores, source, versions: active, header: active.version, pinned: false, canary: null };
  }
  const versions = records.map((r) => pick(entry, r));
  const first = versions[0];
  const split = versions.some((v) => v !== first);
  if (!split) {
    const mv = first ?? active;
    const { scores, source } = await mv.scorer.score(records, directive, call);
    mv.scored(mv === active ? 'active' : 'canary', records, scores);
    return { scores, source, versions: mv, header: mv.version, pinned: false, canary: canary.mv };
  }
  // Two groups: each version scores its own rows, then the scores go back in record order.
  const groups = new Map<ModelVersion, number[]>();
  versions.forEach((v, i) => {
    const g = groups.get(v);
    if (g) g.push(i);
    else groups.set(v, [i]);
  });
  const groupRecords = [...groups.values()].map((idx) => idx.map((i) => records[i]));
  const parts = [...groups.keys()].map((mv, g) => mv.scorer.score(groupRecords[g]!, directive, call));
  const settled = await Promise.allSettled(parts);
  const failed = settled.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
  if (failed.length > 0) throw requestRows(failed, [...groups.values()], settled);
  const done = settled.map((r) => (r as PromiseFulfilledResult<{ scores: Float64Array; source: CacheSource }>).value);
  const scores = new Float64Array(records.length);
  let source: CacheSource | undefined;
  [...groups].forEach(([mv, idx], g) => {
    const s = done[g]!;
    mv.scored(mv === active ? 'active' : 'canary', groupRecords[g]!, s.scores);
    idx.forEach((i, k) => {
      scores[i] = s.scores[k]!;
    });
    source = source === undefined ? s.source : merge(source, s.source);
  });
  const header = [...groups.keys()]
    .map((v) => v.version)
    .sort((a, b) => Number(a) - Number(b))
    .join(',');
  return { scores, source: source!, versions, header, pinned: false, canary: canary.mv };
}

interface Issue {
  row: number;
  message?: string;
}

/**
 * A group's failure as the request's: INVALID_FEATURES issues name rows of the group, so they are
 * renumbered to the request's rows, and both groups' issues are reported together. Any other
 * failure is thrown as it is.
 */
function requestRows(
  failed: unknown[],
  groups: readonly number[][],
  settled: readonly PromiseSettledResult<unknown>[],
): unknown {
  const invalid = (e: unknown) => (e as { code?: unknown })?.code === 'INVALID_FEATURES';
  if (!failed.every(invalid)) return failed.find((e) => !invalid(e));
  const issues: Issue[] = [];
  settled.forEach((r, g) => {
    if (r.status !== 'rejected') return;
    const list = ((r.reason as { details?: { issues?: Issue[] } }).details?.issues ?? []) as Issue[];
    for (const issue of list) {
      const row = groups[g]![issue.row] ?? issue.row;
      const message = issue.message?.replace(/^row \d+:/, `row ${row}:`);
      issues.push({ ...issue, row, ...(message !== undefined ? { message } : {}) });
    }
  });
  issues.sort((a, b) => a.row - b.row);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new ScorerError('INVALID_FEATURES', `invalid features: ${issues[0]?.message ?? ''}${more}`, { issues });
}

/** The version that answered record i. */
export function versionAt(r: RoutedScores, i: number): ModelVersion {
  const v = r.versions;
  return Array.isArray(v) ? v[i]! : (v as ModelVersion);
}

/** `x-ortline-cache` and `x-ortline-model-version` for the answer. */
export function answerHeaders(r: RoutedScores): readonly string[] {
  const v = r.versions;
  return Array.isArray(v) ? versionHeaders(r.header)[r.source] : (v as ModelVersion).headers[r.source];
}
