// GET /v1/live[?since=ms]: the last five minutes of traffic, one point a second (metrics/live.ts),
// or only the points after `since` (the time of the last point a client has). The console's Live
// page polls it every second.
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import type { Router, ServerParts } from './parts.js';

export const LIVE_INTERVAL_MS = 1000;

export function mountLive(router: Router, parts: ServerParts): void {
  const route = parts.metrics.route('v1_live');
  router.get('/v1/live', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, route, false);
    const live = parts.live;
    if (!live) {
      ex.fail(new GatewayError('LIVE_NOT_AVAILABLE', 'live statistics need metrics: metrics.enabled is off'));
      return;
    }
    // Absent: every point. Present, it must be a whole number (`?since=` too is a mistake).
    const raw = req.getQuery('since');
    const since = raw === undefined ? 0 : Number(raw);
    if (raw !== undefined && (!/^\d+$/.test(raw) || !Number.isSafeInteger(since))) {
      ex.fail(
        new GatewayError('INVALID_REQUEST', `since must be a time in milliseconds since the epoch, got "${raw}"`, {
          field: 'since',
        }),
      );
      return;
    }
    ex.sendValue(200, { interval_ms: LIVE_INTERVAL_MS, points: live.since(since) });
  });
}
