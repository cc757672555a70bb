// Operations: /healthz (the process answers), /readyz (every model's active version loaded and
// warmed, not draining; every version's state listed),
// /metrics (Prometheus text).
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import type { Router, ServerParts } from './parts.js';

export function mountOps(router: Router, parts: ServerParts): void {
  const health = parts.metrics.route('health');
  router.get('/healthz', (res, req) =>
    new Exchange(res, req, parts.ctx, health, false).sendJson(200, '{"status":"alive"}'),
  );
  router.get('/readyz', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, health, false);
    const registry = parts.registry;
    const models = registry
      ? registry.names().flatMap((name) => {
          const e = registry.entry(name)!;
          return e.statuses().map((s) => ({
            name,
            version: s.version,
            state: s.state,
            active: s.version === e.routing.active,
            ready: s.state === 'ready',
            ...(s.reason !== undefined ? { reason: s.reason } : {}),
          }));
        })
      : [];
    if (parts.ready) ex.sendValue(200, { status: 'ready', models });
    else
      ex.sendRaw(
        503,
        'application/json',
        JSON.stringify({ status: parts.ctx.draining ? 'draining' : 'loading', models }),
        ['retry-after', parts.ctx.retryAfter],
      );
  });

  if (!parts.metrics.enabled) return;
  const scrape = parts.metrics.route('metrics');
  router.get('/metrics', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, scrape, false);
    parts.metrics.render().then(
      (text) => ex.sendRaw(200, parts.metrics.contentType, text),
      (err: unknown) => ex.fail(new GatewayError('INTERNAL', `metrics: ${(err as Error).message}`)),
    );
  });
}
