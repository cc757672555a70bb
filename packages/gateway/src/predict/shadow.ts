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

/** Mirrors a request's records to the model's shadow version, if it has one and there is room. */
export function mirror(entry: ModelEntry, records: readonly unknown[], live: RoutedScores, limits: ShadowLimits): void {
  const shadow = entry.shadow;
  if (shadow === null || records.length === 0) return;
  if (limits.sampleRate < 1 && Math.random() >= limits.sampleRate) return;
  const metric = shadow.shadowMetric;
  const liveVersion = versionAt(live, 0);
  if (liveVersion.queueRows > limits.busyRows) {
    metric.dropped(records.length, 'busy');
    return;
  }
  if (shadow.queueRows + records.length > limits.maxQueueRows) {
    metric.dropped(records.length, 'full');
    return;
  }
  // After the answer: the live request's continuation (which sends it) runs first.
  setImmediate(() => void compare(shadow, records, live, metric));
}

async function compare(
  shadow: ModelVersion,
  records: readonly unknown[],
  live: RoutedScores,
  metric: ShadowMetric,
): Promise<void> {
  if (!shadow.ready) {
    metric.dropped(records.length, 'unloaded');
    return;
  }
  let scores: Float64Array;
  try {
    // 'internal': a shadow score is never cached and never answered.
    scores = (await shadow.scorer.score(records, 'internal')).scores;
  } catch {
    // Records the live version took but the shadow refuses (another schema), or its queue filled.
    metric.dropped(records.length, 'error');
    return;
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
  shadow.predictions.shadow(scores.length);
  shadow.observe(records, scores);
}
