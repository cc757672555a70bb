// One model and its versions' lifecycle (see registry.ts): loading a version through its gate,
// draining and unloading one, and changing which versions take traffic (persisted to
// serving.json before it takes effect, so memory and disk never disagree).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CacheTiers } from '../cache/tiers.js';
import type { GatewayConfig } from '../config/options.js';
import { GatewayError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { oipMetadataJson } from '../oip/metadata.js';
import type { PredictionIds } from '../predict/answer.js';
import type { ShadowLimits } from '../predict/shadow.js';
import { type GateReason, gateError, type ParityReport, passGate } from './gate.js';
import { loadVersion } from './load.js';
import type { ModelVersion } from './model-version.js';
import type { ModelDir, VersionDir } from './repository.js';
import { checkRouting, type Routing, type RoutingChange, RoutingError, VERSION, writeRouting } from './routing.js';

export type VersionState = 'loading' | 'ready' | 'failed' | 'draining';

export interface VersionStatus {
  readonly version: string;
  readonly state: VersionState;
  /** Why a failed version failed its gate. */
  readonly reason?: GateReason;
  readonly message?: string;
  /** The parity check's result; null when the version ships no parity.json. */
  readonly parity?: ParityReport | null;
}

/** What loading a version needs from the gateway. */
export interface LoadContext {
  readonly config: GatewayConfig;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly cache: CacheTiers | undefined;
  readonly ids: PredictionIds;
}

interface Slot {
  readonly version: string;
  state: VersionState;
  mv?: ModelVersion;
  reason?: GateReason;
  message?: string;
  parity?: ParityReport | null;
  /** While loading or draining: settles when that is done. */
  pending?: Promise<unknown>;
}

const byNumber = (a: string, b: string) => Number(a) - Number(b);

export class ModelEntry {
  readonly name: string;
  readonly dir: string;
  private readonly ctx: LoadContext;
  readonly shadowLimits: ShadowLimits;
  private readonly slots = new Map<string, Slot>();
  private current: Routing = { active: '', previous: null, canary: null, shadow: null };
  // Derived from slots and routing on every change (refresh()); read on every request.
  private activeMv: ModelVersion | undefined;
  private canaryRoute: { readonly mv: ModelVersion; readonly weight: number } | null = null;
  private shadowMv: ModelVersion | null = null;
  private readyVersions: ReadonlyMap<string, ModelVersion> = new Map();
  private oip = '';

  constructor(m: Pick<ModelDir, 'name' | 'dir'>, ctx: LoadContext) {
    this.name = m.name;
    this.dir = m.dir;
    this.ctx = ctx;
    this.shadowLimits = {
      sampleRate: ctx.config.shadow.sampleRate,
      maxQueueRows: ctx.config.shadow.maxQueueRows,
      busyRows: ctx.config.batcher.maxBatchRows,
    };
  }

  get routing(): Routing {
    return this.current;
  }
  /** The version that answers when a request names none. */
  get active(): ModelVersion {
    return this.activeMv!;
  }
  get canary(): { readonly mv: ModelVersion; readonly weight: number } | null {
    return this.canaryRoute;
  }
  get shadow(): ModelVersion | null {
    return this.shadowMv;
  }
  /** The ready versions, ascending by number. */
  get versions(): ReadonlyMap<string, ModelVersion> {
    return this.readyVersions;
  }
  /** GET /v2/models/{name}: every ready version listed, the active one's signature. */
  get oipMetadataJson(): string {
    return this.oip;
  }

  /** One version's state; undefined when the model has no such version loaded or tried. */
  state(version: string): VersionState | undefined {
    return this.slots.get(version)?.state;
  }

  statuses(): VersionStatus[] {
    return [...this.slots.values()]
      .sort((a, b) => byNumber(a.version, b.version))
      .map((s) => ({
        version: s.version,
        state: s.state,
        ...(s.reason !== undefined ? { reason: s.reason, message: s.message } : {}),
        ...(s.parity !== undefined ? { parity: s.parity } : {}),
      }));
  }

  /** Ready and draining versions: they hold native sessions. */
  loaded(): ModelVersion[] {
    const out: ModelVersion[] = [];
    for (const s of this.slots.values()) if (s.mv) out.push(s.mv);
    return out;
  }

  resolve(version?: string): ModelVersion {
    if (!version) return this.activeMv!;
    const key = VERSION.test(version) ? version : /^[0-9]+$/.test(version) ? String(Number(version)) : version;
    const mv = this.readyVersions.get(key);
    if (mv) return mv;
    const slot = this.slots.get(key);
    if (slot)
      throw new GatewayError('MODEL_NOT_READY', `model "${this.name}" version ${key} is ${slot.state}`, {
        model: this.name,
        version: key,
        state: slot.state,
      });
    throw new GatewayError(
      'VERSION_NOT_FOUND',
      `model "${this.name}" has no version "${version}" (versions: ${[...this.readyVersions.keys()].join(', ')})`,
      { model: this.name, version },
    );
  }

  /**
   * Loads a version from its folder and passes it through the gate; resolves with its status
   * once ready. Already ready: resolves at once. Loading: waits for that load. A failed version
   * is tried again (its files may have been fixed). Rejects with MODEL_REJECTED (the gate's
   * reason), VERSION_NOT_FOUND (no such folder) or VERSION_BUSY (draining).
   */
  async load(version: string): Promise<VersionStatus> {
    if (!VERSION.test(version))
      throw new GatewayError('VERSION_NOT_FOUND', `"${version}" is not a version (a positive integer)`, {
        model: this.name,
        version,
      });
    const existing = this.slots.get(version);
    if (existing?.state === 'ready') return this.status(existing);
    if (existing?.state === 'loading') {
      await existing.pending;
      return this.settled(existing);
    }
    if (existing?.state === 'draining')
      throw new GatewayError('VERSION_BUSY', `model "${this.name}" version ${version} is draining`, {
        model: this.name,
        version,
      });
    const dir = join(this.dir, version);
    const onnxPath = join(dir, 'model.onnx');
    if (!existsSync(onnxPath))
      throw new GatewayError('VERSION_NOT_FOUND', `model "${this.name}" has no folder ${version}/ with model.onnx`, {
        model: this.name,
        version,
      });
    const cardPath = join(dir, 'model.json');
    const vdir: VersionDir = { version, dir, onnxPath, cardPath: existsSync(cardPath) ? cardPath : undefined };
    const slot: Slot = existing ?? { version, state: 'loading' };
    slot.state = 'loading';
    slot.reason = undefined;
    slot.message = undefined;
    this.slots.set(version, slot);
    slot.pending = this.loadInto(slot, vdir);
    await slot.pending;
    return this.settled(slot);
  }

  private async loadInto(slot: Slot, v: VersionDir): Promise<void> {
    const { config, metrics, log, cache, ids } = this.ctx;
    const where = `${this.name}/${v.version}`;
    const started = performance.now();
    let mv: ModelVersion | undefined;
    try {
      mv = await loadVersion(this.name, v, config, metrics, ids, cache);
      slot.parity =
        (await passGate(mv, {
          warmup: config.warmup,
          chunkRows: Math.min(config.batcher.maxQueueRows, config.batcher.maxBatchRows),
        })) ?? null;
    } catch (err) {
      const gate = gateError(err, where);
      if (mv) await mv.scorer.close().finally(() => mv!.model.close());
      metrics.lifecycle.rejected(this.name, gate.reason, (performance.now() - started) / 1000);
      slot.state = 'failed';
      slot.reason = gate.reason;
      slot.message = gate.message;
      slot.pending = undefined;
      log.warn(
        { model: this.name, version: v.version, reason: gate.reason, err: { message: gate.message } },
        'model version rejected',
      );
      return;
    }
    metrics.lifecycle.loaded(this.name, (performance.now() - started) / 1000);
    slot.mv = mv;
    slot.state = 'ready';
    slot.pending = undefined;
    mv.ready = true;
    this.refresh();
    log.info(
      {
        model: this.name,
        version: v.version,
        inputs: mv.inputs.length,
        outputs: mv.outputs.map((o) => o.name),
        parity: slot.parity,
        ms: Math.round(performance.now() - started),
      },
      slot.parity ? 'model version ready' : 'model version ready (no parity.json: nothing to reproduce)',
    );
  }

  private settled(slot: Slot): VersionStatus {
    if (slot.state === 'failed')
      throw new GatewayError('MODEL_REJECTED', slot.message ?? `${this.name}/${slot.version} failed its gate`, {
        model: this.name,
        version: slot.version,
        reason: slot.reason,
      });
    return this.status(slot);
  }

  private status(slot: Slot): VersionStatus {
    return this.statuses().find((s) => s.version === slot.version)!;
  }

  /**
   * Start-up: the routing read from disk, minus canary and shadow versions that failed their
   * gate (logged; the file is left as it is). Throws when the active version is not ready.
   */
  startRouting(r: Routing): void {
    const slot = this.slots.get(r.active);
    if (slot?.state !== 'ready')
      throw new GatewayError(
        'MODEL_REJECTED',
        `${this.name}: the active version ${r.active} failed its gate: ${slot?.message ?? 'not loaded'}`,
        { model: this.name, version: r.active, reason: slot?.reason },
      );
    let { canary, shadow } = r;
    if (canary && this.slots.get(canary.version)?.state !== 'ready') {
      this.ctx.log.warn({ model: this.name, version: canary.version }, 'canary version not ready: no canary');
      canary = null;
    }
    if (shadow && this.slots.get(shadow)?.state !== 'ready') {
      this.ctx.log.warn({ model: this.name, version: shadow }, 'shadow version not ready: no shadow');
      shadow = null;
    }
    this.current = { ...r, canary, shadow };
    this.refresh();
  }

  /**
   * Applies an operator's change: every version it names must be ready; a new active version
   * makes the old one `previous`. Written to serving.json first; applied only once written.
   */
  route(change: RoutingChange): Routing {
    const r = this.current;
    const active = change.active ?? r.active;
    const next: Routing = {
      active,
      previous: active !== r.active ? r.active : r.previous,
      canary: change.canary !== undefined ? change.canary : r.canary,
      shadow: change.shadow !== undefined ? change.shadow : r.shadow,
    };
    // A promoted canary stops being the canary; so does a shadow.
    const promoted: Routing = {
      ...next,
      canary: next.canary?.version === active && change.canary === undefined ? null : next.canary,
      shadow: next.shadow === active && change.shadow === undefined ? null : next.shadow,
    };
    return this.apply(promoted, 'promote');
  }

  /** The previous active version becomes active again (and the current one previous). */
  rollback(): Routing {
    const r = this.current;
    if (r.previous === null)
      throw new GatewayError('NO_PREVIOUS_VERSION', `model "${this.name}" has no previous version to roll back to`, {
        model: this.name,
      });
    if (this.slots.get(r.previous)?.state !== 'ready')
      throw new GatewayError(
        'NO_PREVIOUS_VERSION',
        `model "${this.name}": the previous version ${r.previous} is not loaded; load it first`,
        { model: this.name, version: r.previous },
      );
    return this.apply(
      {
        active: r.previous,
        previous: r.active,
        canary: r.canary?.version === r.previous ? null : r.canary,
        shadow: r.shadow === r.previous ? null : r.shadow,
      },
      'rollback',
    );
  }

  /** `activeChange`: what a change of the active version counts as. */
  private apply(next: Routing, activeChange: 'promote' | 'rollback' = 'promote'): Routing {
    const ready = [...this.readyVersions.keys()];
    for (const v of [next.active, next.canary?.version, next.shadow]) {
      if (v != null && !this.readyVersions.has(v))
        throw new GatewayError(
          this.slots.has(v) || existsSync(join(this.dir, v, 'model.onnx')) ? 'VERSION_NOT_LOADED' : 'VERSION_NOT_FOUND',
          `model "${this.name}" version ${v} is not loaded and ready (ready: ${ready.join(', ')})`,
          { model: this.name, version: v },
        );
    }
    try {
      checkRouting(next, ready, this.name);
    } catch (err) {
      if (err instanceof RoutingError) throw new GatewayError('INVALID_ROUTING', err.message, { model: this.name });
      throw err;
    }
    try {
      writeRouting(this.dir, next);
    } catch (err) {
      throw new GatewayError('ROUTING_NOT_SAVED', `${this.name}: serving.json not written: ${(err as Error).message}`, {
        model: this.name,
      });
    }
    const before = this.current;
    this.current = next;
    this.refresh();
    const count = this.ctx.metrics.lifecycle;
    if (next.active !== before.active) count.routed(this.name, activeChange);
    if (JSON.stringify(next.canary) !== JSON.stringify(before.canary)) count.routed(this.name, 'canary');
    if (next.shadow !== before.shadow) count.routed(this.name, 'shadow');
    this.ctx.log.info({ model: this.name, routing: next, was: before }, 'routing changed');
    return next;
  }

  /**
   * Takes a version out: refused while it is active or canary; a shadow stops being one. It
   * stops taking rows at once, answers the rows it holds, then frees its native session.
   */
  async unload(version: string): Promise<void> {
    const slot = this.slots.get(version);
    if (!slot)
      throw new GatewayError('VERSION_NOT_FOUND', `model "${this.name}" has no loaded version ${version}`, {
        model: this.name,
        version,
      });
    const r = this.current;
    if (r.active === version || r.canary?.version === version)
      throw new GatewayError(
        'VERSION_IN_USE',
        `model "${this.name}" version ${version} is the ${r.active === version ? 'active' : 'canary'} version; route traffic away from it first`,
        { model: this.name, version },
      );
    if (slot.state === 'loading' || slot.state === 'draining')
      throw new GatewayError('VERSION_BUSY', `model "${this.name}" version ${version} is ${slot.state}`, {
        model: this.name,
        version,
      });
    if (r.shadow === version) this.apply({ ...r, shadow: null });
    if (slot.state === 'failed') {
      this.slots.delete(version);
      return;
    }
    const mv = slot.mv!;
    slot.state = 'draining';
    mv.ready = false;
    this.refresh();
    const started = performance.now();
    slot.pending = mv.scorer.close().finally(() => {
      mv.model.close();
      this.ctx.cache?.dropLocal(this.name, version);
      this.slots.delete(version);
      this.refresh();
    });
    await slot.pending;
    this.ctx.log.info(
      { model: this.name, version, ms: Math.round(performance.now() - started) },
      'model version unloaded',
    );
  }

  private refresh(): void {
    const ready = new Map<string, ModelVersion>();
    for (const v of [...this.slots.keys()].sort(byNumber)) {
      const s = this.slots.get(v)!;
      if (s.state === 'ready') ready.set(v, s.mv!);
    }
    this.readyVersions = ready;
    const r = this.current;
    this.activeMv = ready.get(r.active) ?? this.activeMv;
    const canaryMv = r.canary ? ready.get(r.canary.version) : undefined;
    this.canaryRoute = canaryMv && r.canary ? { mv: canaryMv, weight: r.canary.weight } : null;
    this.shadowMv = r.shadow ? (ready.get(r.shadow) ?? null) : null;
    if (this.activeMv) this.oip = oipMetadataJson(this.name, [...ready.keys()], this.activeMv);
  }

  async close(): Promise<void> {
    const loaded = this.loaded();
    for (const mv of loaded) mv.ready = false;
    await Promise.allSettled(loaded.map((mv) => mv.scorer.close()));
    for (const mv of loaded) mv.model.close();
  }
}
