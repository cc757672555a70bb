// The traffic log, as the routes feed it: a sampled share of answered rows (and of shadow rows),
// each rendered as one JSON line and handed to the writer's bounded queue. Sampling is per row,
// so a large request does not land in the log whole; rows not sampled cost one random number,
// and with sampling off (the default) no recorder exists at all. Format: docs/traffic-log.md.
import { resolve } from 'node:path';
import { TrafficLogWriter } from '@ortline/monitor';
import type { GatewayConfig } from '../config/options.js';
import type { Logger } from '../log.js';
import type { TrafficLogMetric } from '../metrics/index.js';
import type { ModelVersion } from '../registry/model-version.js';
import { type RoutedScores, routeAt, versionAt } from './route.js';
import type { ShadowScores } from './shadow.js';

/** The request a row came with. */
export interface TrafficContext {
  /** The request's id (x-request-id, else one made up now). */
  requestId(): string;
  /** `performance.now()` when the request arrived. */
  readonly start: number;
}

export class TrafficRecorder {
  private readonly writer: TrafficLogWriter;
  private readonly rate: number;

  private constructor(writer: TrafficLogWriter, sampleRate: number) {
    this.writer = writer;
    this.rate = sampleRate;
  }

  /** The recorder, its folder created; undefined when sampling is off. Throws when the folder cannot be made. */
  static async open(
    config: GatewayConfig['trafficLog'],
    metric: TrafficLogMetric,
    log: Logger,
  ): Promise<TrafficRecorder | undefined> {
    if (config.sampleRate <= 0) return undefined;
    let warned = false;
    const writer = await TrafficLogWriter.open({
      dir: resolve(config.dir),
      maxQueueLines: config.maxQueueRows,
      maxFileBytes: config.maxFileBytes,
      rotateSeconds: config.rotateSeconds,
      onWritten: metric.written,
      onDropped: metric.dropped,
      onError(err) {
        // Once, then the dropped-rows counter tells the rest: a full disk must not flood the log.
        if (warned) return;
        warned = true;
        log.warn({ err, dir: config.dir }, 'traffic log: write failed; rows are dropped until writes succeed');
      },
    });
    log.info({ dir: resolve(config.dir), sampleRate: config.sampleRate }, 'traffic log on');
    return new TrafficRecorder(writer, config.sampleRate);
  }

  /** Writes what is queued and compresses the last file. */
  close(): Promise<void> {
    return this.writer.close();
  }

  /** The rows of an answer just rendered; their shadow's, later, if they were mirrored. */
  answered(ctx: TrafficContext, records: readonly unknown[], routed: RoutedScores): void {
    // Most requests have no row sampled: they cost one random number per row and nothing else.
    let time = '';
    let rid = '';
    let latency = 0;
    for (let i = 0; i < records.length; i++) {
      if (this.rate < 1 && Math.random() >= this.rate) continue;
      if (time === '') {
        time = new Date().toISOString();
        rid = ctx.requestId();
        latency = performance.now() - ctx.start;
      }
      const mv = versionAt(routed, i);
      this.offer(mv, time, rid, routeAt(routed, i), records[i], routed.scores[i]!, latency, routed.source);
    }
    if (routed.shadowed) {
      void routed.shadowed.then((s) => {
        if (s !== null) this.shadowed(ctx, records, s);
      });
    }
  }

  private shadowed(ctx: TrafficContext, records: readonly unknown[], s: ShadowScores): void {
    let time = '';
    let rid = '';
    for (let i = 0; i < records.length; i++) {
      if (this.rate < 1 && Math.random() >= this.rate) continue;
      if (time === '') {
        time = new Date().toISOString();
        rid = ctx.requestId();
      }
      this.offer(s.version, time, rid, 'shadow', records[i], s.scores[i]!, s.ms, 'internal');
    }
  }

  private offer(
    mv: ModelVersion,
    time: string,
    requestId: string,
    route: string,
    record: unknown,
    p: number,
    latencyMs: number,
    cache: string,
  ): void {
    if (!this.writer.hasRoom) {
      this.writer.skip(1);
      return;
    }
    this.writer.offer(
      JSON.stringify({
        time,
        request_id: requestId,
        model: mv.name,
        version: mv.version,
        route,
        id: mv.answers.recordId(record) ?? null,
        features: featuresOf(record, mv.answers.idFields),
        probability: Number.isFinite(p) ? p : null,
        risk: mv.answers.category(p),
        latency_ms: Math.round(latencyMs * 1000) / 1000,
        cache,
      }),
    );
  }
}

/** The record without its id fields (the id has a field of its own). */
function featuresOf(record: unknown, idFields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (record === null || typeof record !== 'object') return out;
  for (const [k, v] of Object.entries(record)) if (!idFields.includes(k)) out[k] = v;
  return out;
}
