// One loaded model version: its card, native model, feature schema, scorer and answer renderer,
// and its serving state.

import type { DriftWindow } from '@ortline/monitor';
import type { FeatureSchema, FeatureSpec, InputPlan, Model, ScorerError, TensorInfo } from '@ortline/scorer';
import { CACHE_HEADERS } from '../cache/directive.js';
import type {
  DriftSource,
  ModelGaugeSource,
  ModelLabels,
  OutcomeMetric,
  PredictionMetric,
  PredictionRoute,
  ShadowMetric,
} from '../metrics/index.js';
import { oipMetadataJson } from '../oip/metadata.js';
import type { AnswerRenderer, RiskBand } from '../predict/answer.js';
import type { CacheSource, Scorer } from '../predict/scorer.js';

/** The parts of model.json the gateway reads. */
export interface ModelCard {
  readonly name?: string;
  readonly version?: string | number;
  readonly features?: readonly FeatureSpec[];
  readonly output?: { readonly name: string; readonly index: number; readonly label?: string };
  readonly risk_thresholds?: readonly RiskBand[];
  /** The v1 answer's field names: `{"id_field", "probability_field", "risk_field"}`. */
  readonly answer?: { readonly id_field?: string; readonly probability_field?: string; readonly risk_field?: string };
  /** Features a business cannot change for a customer (registry/fixed.ts). */
  readonly fixed_features?: readonly string[];
  readonly [key: string]: unknown;
}

export class ModelVersion implements ModelGaugeSource, DriftSource {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly labels: ModelLabels;
  readonly model: Model;
  readonly card: ModelCard;
  readonly schema: FeatureSchema;
  readonly scorer: Scorer;
  readonly answers: AnswerRenderer;
  /** The card's fixed_features, checked against its features. */
  readonly fixedFeatures: readonly string[];
  /** Counts predictions answered by this version, per route: `scored` for records, OIP tensors directly (no drift: no records). */
  readonly predictions: PredictionMetric;
  /** Counts this version's rows when it is some model's shadow. */
  readonly shadowMetric: ShadowMetric;
  /** The rows this version answered, against its card's reference; null when not watched. */
  readonly drift: DriftWindow | null;
  private readonly outcomes: OutcomeMetric;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** GET /v2/models/{name}/versions/{v}, rendered once. */
  readonly oipMetadataJson: string;
  readonly inputByName: ReadonlyMap<string, TensorInfo>;
  readonly inputPlanByName: ReadonlyMap<string, InputPlan>;
  readonly outputByName: ReadonlyMap<string, TensorInfo>;
  /** Response headers per cache source: `x-ortline-cache` (when a cache answered) and `x-ortline-model-version`. */
  readonly headers: Readonly<Record<CacheSource, readonly string[]>>;
  ready = false;

  constructor(init: {
    name: string;
    version: string;
    dir: string;
    model: Model;
    card: ModelCard;
    schema: FeatureSchema;
    scorer: Scorer;
    answers: AnswerRenderer;
    fixedFeatures?: readonly string[];
    predictions: PredictionMetric;
    shadowMetric: ShadowMetric;
    drift: DriftWindow | null;
    outcomes: OutcomeMetric;
  }) {
    this.name = init.name;
    this.version = init.version;
    this.dir = init.dir;
    this.labels = Object.freeze({ model: init.name, version: init.version });
    this.model = init.model;
    this.card = init.card;
    this.schema = init.schema;
    this.scorer = init.scorer;
    this.answers = init.answers;
    this.fixedFeatures = init.fixedFeatures ?? [];
    this.predictions = init.predictions;
    this.shadowMetric = init.shadowMetric;
    this.drift = init.drift;
    this.outcomes = init.outcomes;
    this.inputs = init.model.inputs;
    this.outputs = init.model.outputs;
    this.inputByName = new Map(this.inputs.map((i) => [i.name, i]));
    this.inputPlanByName = new Map(init.model.inputPlans.map((p) => [p.name, p]));
    this.outputByName = new Map(this.outputs.map((o) => [o.name, o]));
    this.oipMetadataJson = oipMetadataJson(init.name, [init.version], this);
    this.headers = versionHeaders(init.version);
  }

  /**
   * Rows this version scored for a caller, by the route that chose it (a shadow's are compared,
   * not answered): counted in ortline_predictions_total, the drift window, the probability
   * histogram and the risk categories.
   */
  scored(route: PredictionRoute, records: readonly unknown[], scores: Float64Array): void {
    this.predictions[route](records.length);
    this.drift?.observe(records, scores);
    this.outcomes(scores);
  }

  get queueRows(): number {
    return this.scorer.queueRows;
  }
  queueRefusal(rows: number): ScorerError | undefined {
    return this.scorer.queueRefusal(rows);
  }
  get inFlight(): number {
    return this.scorer.inFlight;
  }
  get runs(): { readonly inline: number; readonly pool: number } {
    return this.model.runStats;
  }
}

/** The answer headers for a version string (`1`, or `1,2` when two versions answered one request). */
export function versionHeaders(version: string): Readonly<Record<CacheSource, readonly string[]>> {
  const out = {} as Record<CacheSource, readonly string[]>;
  for (const source of Object.keys(CACHE_HEADERS) as CacheSource[])
    out[source] = [...(CACHE_HEADERS[source] ?? []), 'x-ortline-model-version', version];
  return out;
}
