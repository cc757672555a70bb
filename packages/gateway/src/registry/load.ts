// Loading and wiring one model version: its card read and checked, the native model loaded, the
// feature schema, Batcher, cache stage and answer renderer built around it; and the warm-up run.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DriftBins, DriftReferenceError, DriftWindow } from '@ortline/monitor';
import { Batcher, FeatureSchema, Model } from '@ortline/scorer';
import { RowKeys } from '../cache/key.js';
import { CachedScorer } from '../cache/stage.js';
import type { CacheTiers } from '../cache/tiers.js';
import type { GatewayConfig } from '../config/options.js';
import type { Metrics } from '../metrics/index.js';
import {
  type AnswerFields,
  AnswerRenderer,
  ModelCardError,
  type PredictionIds,
  parseAnswerFields,
  parseRiskBands,
} from '../predict/answer.js';
import { BatcherScorer } from '../predict/scorer.js';
import { parseFixedFeatures } from './fixed.js';
import { type ModelCard, ModelVersion } from './model-version.js';
import type { VersionDir } from './repository.js';

export async function loadVersion(
  name: string,
  v: VersionDir,
  config: GatewayConfig,
  metrics: Metrics,
  ids: PredictionIds,
  cache: CacheTiers | undefined,
): Promise<ModelVersion> {
  const where = `${name}/${v.version}`;
  const card = readCard(v.cardPath, where);
  const model = await Model.load(v.onnxPath, {
    sessions: config.model.sessions,
    intraOpThreads: config.model.intraOpThreads,
    categoricalCodes: config.model.categoricalCodes,
    inlineBudgetMicros: config.model.inlineBudgetMicros,
  });
  try {
    const fields = parseAnswerFields(card.answer, `${where}/model.json`);
    const passthrough = idFieldsOf(card, model, fields, config.passthroughFields);
    const schema = FeatureSchema.fromModel(model, card, { passthrough });
    const labels = { model: name, version: v.version };
    const batcher = new Batcher(model, schema, {
      ...config.batcher,
      concurrency: config.model.sessions,
      ...(card.output ? { output: { name: card.output.name, index: card.output.index } } : {}),
      ...(metrics.enabled ? { onBatch: metrics.batch(labels), onDrop: metrics.dropped(labels) } : {}),
    });
    const bands = parseRiskBands(card.risk_thresholds, `${where}/model.json`);
    const fixedFeatures = parseFixedFeatures(
      card.fixed_features,
      new Set(schema.features.map((f) => f.name)),
      `${where}/model.json`,
    );
    const answers = new AnswerRenderer(v.version, bands, ids, fields, passthrough);
    const drift = config.drift.enabled ? driftWindow(card, `${where}/model.json`, config) : null;
    const scorer = cache
      ? new CachedScorer({
          batcher,
          schema: FeatureSchema.fromModel(model, card, { passthrough }),
          keys: new RowKeys(
            schema,
            cache.keyPrefix,
            name,
            v.version,
            createHash('sha256').update(readFileSync(v.onnxPath)).digest(),
          ),
          l1: cache.l1,
          l2: cache.l2,
          metric: metrics.cache(labels),
        })
      : new BatcherScorer(batcher);
    return new ModelVersion({
      name,
      version: v.version,
      dir: v.dir,
      model,
      card,
      schema,
      scorer,
      answers,
      fixedFeatures,
      predictions: metrics.predictions(labels),
      shadowMetric: metrics.shadow(labels),
      drift,
      outcomes: metrics.outcomes(labels, { categories: bands.map((b) => b.category), band: (p) => answers.band(p) }),
    });
  } catch (err) {
    model.close();
    throw err;
  }
}

/** A version's model.json, or an empty card when it has none. */
export function readCard(cardPath: string | undefined, where: string): ModelCard {
  if (!cardPath) return {};
  try {
    return JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
  } catch (err) {
    throw new Error(`${where}/model.json: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Record fields that carry an id, not a feature: the card's own id field first, then the
 * configured ones (records of any model may carry them).
 */
export function idFieldsOf(
  card: ModelCard,
  model: Pick<Model, 'inputs'>,
  fields: AnswerFields,
  configured: readonly string[],
): string[] {
  const featureNames = new Set((card.features ?? []).map((f) => f.name).concat(model.inputs.map((i) => i.name)));
  return [...new Set([fields.id, ...configured])].filter((f) => !featureNames.has(f));
}

/** The version's drift window, or null when its card has no reference; a broken reference fails the card. */
function driftWindow(card: ModelCard, where: string, config: GatewayConfig): DriftWindow | null {
  let bins: DriftBins | null;
  try {
    bins = DriftBins.fromCard(card, where);
  } catch (err) {
    if (err instanceof DriftReferenceError) throw new ModelCardError(err.message);
    throw err;
  }
  if (bins === null) return null;
  const { windowRows, windowSeconds, minRows } = config.drift;
  return new DriftWindow(bins, windowSeconds > 0 ? { seconds: windowSeconds, minRows } : { rows: windowRows, minRows });
}
