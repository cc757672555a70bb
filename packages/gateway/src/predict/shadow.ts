// Shadow traffic: the shadow version scores the same records as the live answer, after the answer
// has gone, and only what is measured of it is kept: rows compared, the sum of absolute
// differences (their mean is sum / rows) and risk-category disagreements. It is bounded: a share
// of requests (`shadow.sampleRate`), a queue of its own (`shadow.maxQueueRows`), and nothing at
// all while the live version has a backlog, so under load the shadow is the first thing dropped.
import type { ShadowMetric } from '../metrics/index.js';
import type { ModelEntry } from '../registry/entry.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { RoutedScores } from './route.js';
import { versionAt } from './route.js';

export interface ShadowLimits {
  readonly sampleRate: number;
  readonly maxQueueRows: number;
  /** The live queue depth past which shadow rows are dropped. */
  readonly busyRows: number;
}

/** What the shadow version made of a request's records. */
export interface ShadowScores {
  readonly version: ModelVersion;
  readonly scores: Float64Array;
  /** Milliseconds the shadow took, from the hand-over. */
  readonly ms: number;
}

/**
 * Mirrors a request's records to the model's shadow version, if it has one and there is room.
 * Returns its scores to come (null when it could not score them), or null when nothing was mirrored.
 */
export function mirror(
  entry: ModelEntry,
  records: readonly unknown[],
  live: RoutedScores,
  limits: ShadowLimits,
): Promise<ShadowScores | null> | null {
  const shadow = entry.shadow;
  if (shadow === null || records.length === 0) return null;
  if (limits.sampleRate < 1 && Math.random() >= limits.sampleRate) return null;
  const metric = shadow.shadowMetric;
  const liveVersion = versionAt(live, 0);
  if (liveVersion.queueRows > limits.busyRows) {
    metric.dropped(records.length, 'busy');
    return null;
  }
  if (shadow.queueRows + records.length > limits.maxQueueRows) {
    metric.dropped(records.length, 'full');
    return null;
  }
  // After the answer: the live request's continuation (which sends it) runs first.
  return new Promise((resolve) => setImmediate(() => resolve(compare(shadow, records, live, metric))));
}

async function compare(
  shadow: ModelVersion,
  records: readonly unknown[],
  live: RoutedScores,
  metric: ShadowMetric,
): Promise<ShadowScores | null> {
  if (!shadow.ready) {
    metric.dropped(records.length, 'unloaded');
    return null;
  }
  const start = performance.now();
  let scores: Float64Array;
  try {
    // 'internal': a shadow score is never cached and never answered.
    scores = (await shadow.scorer.score(records, 'internal')).scores;
  } catch {
    // Records the live version took but the shadow refuses (another schema), or its queue filled.
    metric.dropped(records.length, 'error');
    return null;
  }
  let absDiff = 0;
  let disagreements = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = live.scores[i]!;
    const q = scores[i]!;
    absDiff += Math.abs(q - p);
    if (shadow.answers.category(q) !== versionAt(live, i).answers.category(p)) disagreements++;
  }
  metric.scored(scores.length, absDiff, disagreements);
  shadow.scored('shadow', records, scores);
  return { version: shadow, scores, ms: performance.now() - start };
}
