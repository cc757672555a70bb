// The process: event-loop delay since the previous scrape (what a request waited for the loop),
// the requests refused for it before their body was parsed, and the WebSocket stream's
// connections and held-back answers.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { Counter, Gauge, type Registry } from 'prom-client';
import { SHED_REASONS, type ShedReason } from '../http/pressure.js';

export function runtimeMetrics(
  registry: Registry,
  wsPending: () => number,
): { wsConnections(delta: number): void; shed(reason: ShedReason): void; close(): void } {
  const ws = new Gauge({
    name: 'ortline_ws_connections',
    help: 'Open WebSocket connections on /v1/stream.',
    registers: [registry],
  });
  new Gauge({
    name: 'ortline_ws_pending_answers',
    help: 'WebSocket answers held back because their socket is over ws.sendCapBytes (backpressure).',
    registers: [registry],
    collect() {
      this.set(wsPending());
    },
  });

  const shed = new Counter({
    name: 'ortline_requests_shed_total',
    help: 'Scoring requests refused with QUEUE_FULL before their body was parsed: the event loop ran past maxEventLoopDelayMs (event_loop), or the batcher already expected a wait past batcher.maxQueueMs (queue_time) or held batcher.maxQueueRows rows (queue_rows).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of SHED_REASONS) shed.inc({ reason }, 0);

  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  new Gauge({
    name: 'ortline_event_loop_delay_seconds',
    help: 'Event-loop delay since the previous scrape, by quantile (1 = max).',
    labelNames: ['quantile'] as const,
    registers: [registry],
    collect() {
      if (loop.count > 0) {
        this.set({ quantile: '0.5' }, loop.percentile(50) / 1e9);
        this.set({ quantile: '0.99' }, loop.percentile(99) / 1e9);
        this.set({ quantile: '1' }, loop.max / 1e9);
      }
      loop.reset();
    },
  });
  return {
    wsConnections(delta) {
      ws.inc(delta);
    },
    shed(reason) {
      shed.inc({ reason });
    },
    close() {
      loop.disable();
    },
  };
}
