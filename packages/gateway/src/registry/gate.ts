// The gate a model version passes before it may take traffic: it loads with a card that matches
// its ONNX inputs (checked while loading), its parity.json rows reproduce within their tolerance,
// and a warm-up row runs through the whole path. A failure names one stable reason, so the admin
// API, the log and the gate-failure metric all say the same thing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScorerError } from '@ortline/scorer';
import type { GatewayConfig } from '../config/options.js';
import { createMetrics } from '../metrics/index.js';
import { ModelCardError, PredictionIds } from '../predict/answer.js';
import { exampleRecord } from '../predict/example.js';
import { loadVersion } from './load.js';
import type { ModelVersion } from './model-version.js';
import type { VersionDir } from './repository.js';

export const GATE_REASONS = [
  /** model.json is not JSON, or its answer section (thresholds, field names) is unusable. */
  'card_invalid',
  /** model.onnx is missing, not a model ONNX Runtime loads, or has inputs ortline cannot feed. */
  'load_failed',
  /** The card's feature schema does not fit the ONNX inputs. */
  'schema_mismatch',
  /** parity.json is unreadable, or its rows do not reproduce within its tolerance. */
  'parity_failed',
  /** The warm-up row failed. */
  'warmup_failed',
] as const;
export type GateReason = (typeof GATE_REASONS)[number];

export class GateError extends Error {
  override readonly name = 'GateError';
  readonly reason: GateReason;
  constructor(reason: GateReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Any error from loading a version, as the gate reason it stands for. */
export function gateError(err: unknown, where: string): GateError {
  if (err instanceof GateError) return err;
  const message = `${where}: ${(err as Error)?.message ?? String(err)}`;
  if (err instanceof ModelCardError || err instanceof SyntaxError)
    return new GateError('card_invalid', message, { cause: err });
  if (err instanceof ScorerError && err.code === 'INVALID_SCHEMA')
    return new GateError('schema_mismatch', message, { cause: err });
  return new GateError('load_failed', message, { cause: err });
}

export interface ParityReport {
  readonly rows: number;
  readonly tolerance: number;
  readonly maxAbsDiff: number;
}

interface ParityFile {
  tolerance?: unknown;
  rows?: { features?: unknown; probability?: unknown }[];
}

/**
 * Scores the version's parity.json rows (`{"tolerance", "rows": [{"features", "probability"}]}`)
 * and compares each probability. Undefined when the version ships no parity.json: there is then
 * nothing to reproduce, which the load log says.
 */
export async function checkParity(mv: ModelVersion, chunkRows: number): Promise<ParityReport | undefined> {
  const path = join(mv.dir, 'parity.json');
  if (!existsSync(path)) return undefined;
  const where = `${mv.name}/${mv.version}/parity.json`;
  let file: ParityFile;
  try {
    file = JSON.parse(readFileSync(path, 'utf8')) as ParityFile;
  } catch (err) {
    throw new GateError('parity_failed', `${where}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const tolerance = file.tolerance;
  const rows = file.rows;
  if (typeof tolerance !== 'number' || !(tolerance >= 0) || !Array.isArray(rows) || rows.length === 0)
    throw new GateError('parity_failed', `${where}: expected {"tolerance": number >= 0, "rows": [at least one row]}`);
  const expected: number[] = [];
  const records: unknown[] = [];
  for (const [i, r] of rows.entries()) {
    if (typeof r?.probability !== 'number' || r.features === null || typeof r.features !== 'object')
      throw new GateError('parity_failed', `${where}: rows[${i}] needs "features" (an object) and "probability"`);
    records.push(r.features);
    expected.push(r.probability);
  }
  const scores = new Float64Array(records.length);
  try {
    // In chunks the queue takes whole; 'internal': never read from or written to the cache (a
    // parity row is nobody's answer).
    for (let i = 0; i < records.length; i += chunkRows)
      scores.set((await mv.scorer.score(records.slice(i, i + chunkRows), 'internal')).scores, i);
  } catch (err) {
    throw new GateError('parity_failed', `${where}: the rows could not be scored: ${(err as Error).message}`, {
      cause: err,
    });
  }
  let maxAbsDiff = 0;
  let worst = -1;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(scores[i]! - expected[i]!);
    // NaN counts as the worst difference there is.
    if (!(d <= maxAbsDiff)) {
      maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      worst = i;
    }
  }
  if (maxAbsDiff > tolerance)
    throw new GateError(
      'parity_failed',
      `${where}: row ${worst} scores ${scores[worst]} where ${expected[worst]} was expected (difference ${maxAbsDiff} > tolerance ${tolerance})`,
    );
  return { rows: expected.length, tolerance, maxAbsDiff };
}

/** One synthetic valid row through the whole path (schema, batcher, native run). */
export async function warm(mv: ModelVersion): Promise<void> {
  const row = exampleRecord(mv.schema.features);
  let p: number | undefined;
  try {
    // Not cached: a synthetic row is nobody's answer.
    [p] = (await mv.scorer.score([row], 'internal')).scores;
  } catch (err) {
    throw new GateError('warmup_failed', `${mv.name}/${mv.version}: warm-up run failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (p === undefined || Number.isNaN(p))
    throw new GateError('warmup_failed', `${mv.name}/${mv.version}: warm-up run returned no score`);
}

/** The checks after loading: parity rows, then (unless turned off) the warm-up row. */
export async function passGate(
  mv: ModelVersion,
  options: { warmup: boolean; chunkRows: number },
): Promise<ParityReport | undefined> {
  const parity = await checkParity(mv, Math.max(1, options.chunkRows));
  if (options.warmup) await warm(mv);
  return parity;
}

/**
 * The whole gate for a folder that is not served (yet): load it as a version, check its parity
 * rows and run the warm-up, then close it. Throws a GateError with the reason.
 */
export async function gateFolder(name: string, dir: string, config: GatewayConfig): Promise<ParityReport | undefined> {
  const card = join(dir, 'model.json');
  const v: VersionDir = {
    version: '0',
    dir,
    onnxPath: join(dir, 'model.onnx'),
    cardPath: existsSync(card) ? card : undefined,
  };
  const metrics = createMetrics({ enabled: false, defaultMetrics: false, models: () => [], wsPending: () => 0 });
  let mv: ModelVersion | undefined;
  try {
    mv = await loadVersion(name, v, config, metrics, new PredictionIds(), undefined);
    return await passGate(mv, { warmup: true, chunkRows: config.batcher.maxBatchRows });
  } catch (err) {
    throw gateError(err, dir);
  } finally {
    if (mv) await mv.scorer.close().finally(() => mv!.model.close());
  }
}
