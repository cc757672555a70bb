// The loaded models: loads every version of every model in the repository (scan, then each
// version loaded and wired, then warmed), and answers "which model version is this request for".
import type { CacheTiers } from '../cache/tiers.js';
import type { GatewayConfig } from '../config/options.js';
import { OPTIONS } from '../config/options.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { oipMetadataJson } from '../oip/metadata.js';
import { PredictionIds } from '../predict/answer.js';
import { loadVersion, warm } from './load.js';
import type { ModelVersion } from './model-version.js';
import { RepositoryError, resolveModelsDir, scanRepository } from './repository.js';

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
      throw new RepositoryError(`no models in ${dir}: expected <dir>/<name>/<version>/model.onnx`);
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
        const active = versions.get(m.routing.active)!;
        active.active = true;
        const oip = oipMetadataJson(m.name, [...versions.keys()], active);
        entries.set(m.name, { name: m.name, versions, active, oipMetadataJson: oip });
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
