// models.control poll: scans the repository every models.pollIntervalMs. A version folder that
// appears is loaded once model.onnx and model.json are both there and their size and modification
// time (and parity.json's) have not changed for models.pollSettleMs (a copy in progress is never loaded half-written);
// a folder that failed its gate is tried again only when its files change. A loaded version whose
// folder vanished is unloaded, unless it takes traffic (then it keeps serving and a warning says
// why). Only versions of the models present at start are watched.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { ModelEntry } from './entry.js';
import { VERSION } from './routing.js';

interface Seen {
  signature: string;
  since: number;
  /** The signature a load was last tried with (a failed one is not retried until it changes). */
  tried?: string;
}

/**
 * Size and modification time of model.onnx, model.json and (when there) parity.json; undefined
 * while model.onnx or model.json is missing.
 */
function signature(dir: string): string | undefined {
  const parts: string[] = [];
  for (const f of ['model.onnx', 'model.json', 'parity.json']) {
    const p = join(dir, f);
    if (!existsSync(p)) {
      if (f === 'parity.json') continue;
      return undefined;
    }
    const s = statSync(p);
    if (!s.isFile()) return undefined;
    parts.push(`${f}:${s.size}:${s.mtimeMs}`);
  }
  return parts.join('|');
}

export class RepositoryPoller {
  private readonly entries: readonly ModelEntry[];
  private readonly settleMs: number;
  private readonly log: Logger;
  private readonly seen = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;

  constructor(entries: readonly ModelEntry[], options: { intervalMs: number; settleMs: number }, log: Logger) {
    this.entries = entries;
    this.settleMs = options.settleMs;
    this.log = log;
    this.timer = setInterval(() => {
      // One scan at a time: a slow load must not be started twice.
      this.scanning ??= this.scan().finally(() => {
        this.scanning = undefined;
      });
    }, options.intervalMs);
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    const now = performance.now();
    for (const entry of this.entries) {
      let folders: string[];
      try {
        folders = readdirSync(entry.dir).filter((v) => VERSION.test(v));
      } catch {
        continue;
      }
      const present = new Set<string>();
      for (const v of folders) {
        const sig = signature(join(entry.dir, v));
        if (sig === undefined) continue;
        present.add(v);
        const state = entry.state(v);
        if (state === 'ready' || state === 'loading' || state === 'draining') continue;
        const key = `${entry.name}/${v}`;
        const seen = this.seen.get(key);
        if (!seen || seen.signature !== sig) {
          this.seen.set(key, { signature: sig, since: now });
          continue;
        }
        if (now - seen.since < this.settleMs || seen.tried === sig) continue;
        seen.tried = sig;
        this.log.info({ model: entry.name, version: v }, 'poll: new version folder, loading');
        await entry.load(v).catch(() => undefined); // the gate's reason is logged by the load
      }
      for (const s of entry.statuses()) {
        if (present.has(s.version) || s.state === 'loading' || s.state === 'draining') continue;
        this.seen.delete(`${entry.name}/${s.version}`);
        const r = entry.routing;
        if (r.active === s.version || r.canary?.version === s.version) {
          this.log.warn(
            { model: entry.name, version: s.version },
            'poll: the folder of a version that takes traffic vanished; it keeps serving from memory',
          );
          continue;
        }
        this.log.info({ model: entry.name, version: s.version }, 'poll: version folder gone, unloading');
        await entry
          .unload(s.version)
          .catch((err: Error) =>
            this.log.warn(
              { model: entry.name, version: s.version, err: { message: err.message } },
              'poll: unload failed',
            ),
          );
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.scanning;
  }
}
