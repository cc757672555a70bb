// The loaded models and their lifecycle. Each version is in one state:
//   loading -> ready | failed;  ready -> draining -> (gone)
// A version takes traffic only when ready, that is after its gate passed (gate.ts). Routing
// (routing.ts) says which ready versions answer: the active one, a canary, a shadow. Every change
// of state or routing happens synchronously inside one turn of the event loop, so a request that
// picks its version and hands its rows to that version's scorer in one turn can never reach a
// version that has started draining; draining then waits for what was handed over.
import type { CacheTiers } from '../cache/tiers.js';
import type { GatewayConfig } from '../config/options.js';
import { OPTIONS } from '../config/options.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { PredictionIds } from '../predict/answer.js';
import { type LoadContext, ModelEntry, type VersionStatus } from './entry.js';
import type { ModelVersion } from './model-version.js';
import { RepositoryPoller } from './poll.js';
import { RepositoryError, resolveModelsDir, scanRepository } from './repository.js';

export type { ModelEntry, VersionStatus };

export class ModelRegistry {
  private readonly entries: ReadonlyMap<string, ModelEntry>;
  private readonly poller: RepositoryPoller | undefined;

  private constructor(entries: Map<string, ModelEntry>, poller: RepositoryPoller | undefined) {
    this.entries = entries;
    this.poller = poller;
  }

  /**
   * Loads every version of every model and passes each through its gate. A version that fails
   * is kept as `failed` with its reason and takes no traffic; the gateway fails to start only
   * when a model's active version fails (there would be nothing to answer with).
   */
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
    const ctx: LoadContext = { config, metrics, log, cache, ids: new PredictionIds() };
    const entries = new Map<string, ModelEntry>();
    try {
      for (const m of models) {
        for (const s of m.skipped) log.warn({ model: m.name }, `skipped ${s}`);
        const entry = new ModelEntry(m, ctx);
        entries.set(m.name, entry);
        for (const v of m.versions) await entry.load(v.version).catch(() => undefined);
        entry.startRouting(m.routing);
      }
    } catch (err) {
      await Promise.allSettled([...entries.values()].map((e) => e.close()));
      throw err;
    }
    const poller =
      config.models.control === 'poll'
        ? new RepositoryPoller(
            [...entries.values()],
            { intervalMs: config.models.pollIntervalMs, settleMs: config.models.pollSettleMs },
            log,
          )
        : undefined;
    const registry = new ModelRegistry(entries, poller);
    log.info(
      {
        models: [...entries.values()].map((e) => ({
          name: e.name,
          versions: e.statuses().map((s) => `${s.version}:${s.state}`),
          routing: e.routing,
        })),
      },
      'models ready',
    );
    return registry;
  }

  /** Every model has a ready active version. */
  get ready(): boolean {
    for (const e of this.entries.values()) if (!e.active.ready) return false;
    return this.entries.size > 0;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  entry(name: string): ModelEntry | undefined {
    return this.entries.get(name);
  }

  /** The model, or 404. */
  model(name: string): ModelEntry {
    const e = this.entries.get(name);
    if (!e)
      throw new GatewayError('MODEL_NOT_FOUND', `no model named "${name}" (models: ${this.names().join(', ')})`, {
        model: name,
      });
    return e;
  }

  /** Every loaded version (ready or draining) of every model: what the per-version gauges read. */
  all(): ModelVersion[] {
    return [...this.entries.values()].flatMap((e) => e.loaded());
  }

  /** The model version a request names; the active version when `version` is empty. Throws 404 / 503. */
  resolve(name: string, version?: string): ModelVersion {
    return this.model(name).resolve(version);
  }

  /** Every known version's state, for the lifecycle gauge. */
  *versionStates(): Iterable<{ model: string; version: string; state: string }> {
    for (const e of this.entries.values())
      for (const s of e.statuses()) yield { model: e.name, version: s.version, state: s.state };
  }

  /** Lets everything accepted finish, then frees the native sessions. */
  async close(): Promise<void> {
    await this.poller?.close();
    await Promise.allSettled([...this.entries.values()].map((e) => e.close()));
  }
}
