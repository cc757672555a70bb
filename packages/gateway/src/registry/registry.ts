// Loads every version of every model in the repository, builds its feature schema, Batcher and
// scorer stages, warms it with one run, and answers "which model version is this request for".
import { readFileSync } from 'node:fs';
import { Batcher, FeatureSchema, type FeatureSpec, Model, type TensorInfo } from '@ortline/scorer';
import { RowKeys } from '../cache/key.js';
import { CachedScorer } from '../cache/stage.js';
import type { CacheTiers } from '../cache/tiers.js';
import type { GatewayConfig } from '../config/options.js';
import { OPTIONS } from '../config/options.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics, ModelGaugeSource, ModelLabels } from '../metrics.js';
import { oipDatatype, oipShape } from '../oip/datatypes.js';
import { AnswerRenderer, PredictionIds, parseAnswerFields, parseRiskBands, type RiskBand } from '../predict/answer.js';
import { BatcherScorer, type Scorer } from '../predict/scorer.js';
import { resolveModelsDir, scanRepository, type VersionDir } from './repository.js';

/** The parts of model.json the gateway reads. */
export interface ModelCard {
  readonly name?: string;
  readonly version?: string | number;
  readonly features?: readonly FeatureSpec[];
  readonly output?: { readonly name: string; readonly index: number; readonly label?: string };
  readonly risk_thresholds?: readonly RiskBand[];
  /** The v1 answer's field names: `{"id_field", "probability_field", "risk_field"}`. */
  readonly answer?: { readonly id_field?: string; readonly probability_field?: string; readonly risk_field?: string };
  readonly [key: string]: unknown;
}

export class ModelVersion implements ModelGaugeSource {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly labels: ModelLabels;
  readonly model: Model;
  readonly card: ModelCard;
  readonly schema: FeatureSchema;
  readonly scorer: Scorer;
  readonly answers: AnswerRenderer;
  readonly inputs: readonly TensorInfo[];
  readonly outputs: readonly TensorInfo[];
  /** GET /v2/models/{name}/versions/{v}, rendered once. */
  readonly oipMetadataJson: string;
  readonly inputByName: ReadonlyMap<string, TensorInfo>;
  readonly outputByName: ReadonlyMap<string, TensorInfo>;
  active = false;
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
    this.inputs = init.model.inputs;
    this.outputs = init.model.outputs;
    this.inputByName = new Map(this.inputs.map((i) => [i.name, i]));
    this.outputByName = new Map(this.outputs.map((o) => [o.name, o]));
    this.oipMetadataJson = JSON.stringify({
      name: init.name,
      versions: [init.version],
      platform: 'onnxruntime_onnx',
      inputs: this.inputs.map((i) => ({ name: i.name, datatype: oipDatatype(i.type), shape: oipShape(i.shape) })),
      outputs: this.outputs.map((o) => ({ name: o.name, datatype: oipDatatype(o.type), shape: oipShape(o.shape) })),
    });
  }

  get queueRows(): number {
    return this.scorer.queueRows;
  }
  get inFlight(): number {
    return this.scorer.inFlight;
  }
}

export interface ModelEntry {
  readonly name: string;
  /** Ascending by version number. */
  readonly versions: ReadonlyMap<string, ModelVersion>;
  readonly active: ModelVersion;
  /** GET /v2/models/{name}: every version listed, the active one's signature. */
  readonly oipMetadataJson: string;
}

export class ModelRegistry {
  private readonly entries: ReadonlyMap<string, ModelEntry>;
  private readonly list: readonly ModelVersion[];

  private constructor(entries: Map<string, ModelEntry>) {
    this.entries = entries;
    this.list = [...entries.values()].flatMap((e) => [...e.versions.values()]);
  }

  /** Loads everything; fails (closing what it loaded) if any version cannot be loaded. */
  static async load(config: GatewayConfig, metrics: Metrics, log: Logger, cache?: CacheTiers): Promise<ModelRegistry> {
    const dir = resolveModelsDir(
      config.modelsDir,
      config.modelsDir === OPTIONS.find((o) => o.key === 'modelsDir')!.default,
    );
    const { models, ignored } = scanRepository(dir);
    log.info({ modelsDir: dir }, 'loading models');
    if (ignored.length > 0) log.debug({ ignored }, 'folders without numeric model versions ignored');
    if (models.length === 0)
      throw new GatewayError('MODEL_NOT_FOUND', `no models in ${dir}: expected <dir>/<name>/<version>/model.onnx`);
    const ids = new PredictionIds();
    const loaded: ModelVersion[] = [];
    const entries = new Map<string, ModelEntry>();
    try {
      for (const m of models) {
        for (const s of m.skipped) log.warn({ model: m.name }, `skipped ${s}`);
        const versions = new Map<string, ModelVersion>();
        for (const v of m.versions) {
          const mv = await loadVersion(m.name, v, config, metrics, ids, cache);
          loaded.push(mv);
          versions.set(v.version, mv);
          log.info(
            { model: m.name, version: v.version, inputs: mv.inputs.length, outputs: mv.outputs.map((o) => o.name) },
            'model version loaded',
          );
        }
        const active = versions.get(m.active)!;
        active.active = true;
        const meta = JSON.parse(active.oipMetadataJson) as Record<string, unknown>;
        meta.versions = [...versions.keys()];
        entries.set(m.name, { name: m.name, versions, active, oipMetadataJson: JSON.stringify(meta) });
      }
      const registry = new ModelRegistry(entries);
      for (const mv of loaded) {
        if (config.warmup) await warm(mv);
        mv.ready = true;
      }
      log.info(
        {
          models: [...entries.values()].map((e) => ({
            name: e.name,
            versions: [...e.versions.keys()],
            active: e.active.version,
          })),
        },
        'models ready',
      );
      return registry;
    } catch (err) {
      await Promise.allSettled(loaded.map((mv) => mv.scorer.close().finally(() => mv.model.close())));
      throw err;
    }
  }

  get ready(): boolean {
    return this.list.length > 0 && this.list.every((m) => m.ready);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  all(): readonly ModelVersion[] {
    return this.list;
  }

  /** The model version a request names; the active version when `version` is empty. Throws 404s. */
  resolve(name: string, version?: string): ModelVersion {
    const e = this.entries.get(name);
    if (!e)
      throw new GatewayError('MODEL_NOT_FOUND', `no model named "${name}" (models: ${this.names().join(', ')})`, {
        model: name,
      });
    if (!version) return e.active;
    const mv =
      e.versions.get(version) ?? (/^[0-9]+$/.test(version) ? e.versions.get(String(Number(version))) : undefined);
    if (!mv)
      throw new GatewayError(
        'VERSION_NOT_FOUND',
        `model "${name}" has no version "${version}" (versions: ${[...e.versions.keys()].join(', ')})`,
        { model: name, version },
      );
    return mv;
  }

  /** Lets everything accepted finish, then frees the native sessions. */
  async close(): Promise<void> {
    for (const mv of this.list) mv.ready = false;
    await Promise.allSettled(this.list.map((mv) => mv.scorer.close()));
    for (const mv of this.list) mv.model.close();
  }
}

async function loadVersion(
  name: string,
  v: VersionDir,
  config: GatewayConfig,
  metrics: Metrics,
  ids: PredictionIds,
  cache: CacheTiers | undefined,
): Promise<ModelVersion> {
  const where = `${name}/${v.version}`;
  let card: ModelCard = {};
  if (v.cardPath) {
    try {
      card = JSON.parse(readFileSync(v.cardPath, 'utf8')) as ModelCard;
    } catch (err) {
      throw new Error(`${where}/model.json: ${(err as Error).message}`, { cause: err });
    }
  }
  const model = await Model.load(v.onnxPath, {
    sessions: config.model.sessions,
    intraOpThreads: config.model.intraOpThreads,
  });
  try {
    const fields = parseAnswerFields(card.answer, `${where}/model.json`);
    const featureNames = new Set((card.features ?? []).map((f) => f.name).concat(model.inputs.map((i) => i.name)));
    // The card's own id field first, then the configured ones: records of any model may carry them.
    const passthrough = [...new Set([fields.id, ...config.passthroughFields])].filter((f) => !featureNames.has(f));
    const schema = FeatureSchema.fromModel(model, card, { passthrough });
    const labels = { model: name, version: v.version };
    const batcher = new Batcher(model, schema, {
      ...config.batcher,
      concurrency: config.model.sessions,
      ...(card.output ? { output: { name: card.output.name, index: card.output.index } } : {}),
      ...(metrics.enabled ? { onBatch: metrics.batch(labels) } : {}),
    });
    const bands = parseRiskBands(card.risk_thresholds, `${where}/model.json`);
    const answers = new AnswerRenderer(v.version, bands, ids, fields, passthrough);
    const scorer = cache
      ? new CachedScorer({
          batcher,
          schema: FeatureSchema.fromModel(model, card, { passthrough }),
          keys: new RowKeys(schema, cache.keyPrefix, name, v.version),
          l1: cache.l1,
          l2: cache.l2,
          metric: metrics.cache(labels),
        })
      : new BatcherScorer(batcher);
    return new ModelVersion({ name, version: v.version, dir: v.dir, model, card, schema, scorer, answers });
  } catch (err) {
    model.close();
    throw err;
  }
}

/** One synthetic valid row through the whole path (schema, batcher, native run). */
async function warm(mv: ModelVersion): Promise<void> {
  const row: Record<string, unknown> = {};
  for (const f of mv.schema.features) {
    if (f.kind === 'categorical') row[f.name] = typeof f.default === 'string' ? f.default : (f.categories?.[0] ?? '');
    else row[f.name] = typeof f.default === 'number' ? f.default : (f.min ?? (f.max != null && f.max < 0 ? f.max : 0));
  }
  // Not cached: a synthetic row is nobody's answer.
  const [p] = (await mv.scorer.score([row], 'internal')).scores;
  if (p === undefined) throw new Error(`${mv.name}/${mv.version}: warm-up run returned no score`);
}
