// The admin routes' door: a bearer token (`admin.token`, env ORTLINE_ADMIN_TOKEN), compared in
// constant time. Without a token configured every admin route answers 403 ADMIN_DISABLED: an
// unauthenticated admin API would let anyone flush caches or reroute traffic.
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import type { RouteMetric } from '../metrics/index.js';
import type { ModelRegistry } from '../registry/registry.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import type { ServerParts } from './parts.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * `open(res, req)`: the request's exchange and the registry once the caller is let in; undefined
 * after answering 403, 401 or 503 (models still loading).
 */
export function adminDoor(
  parts: ServerParts,
  route: RouteMetric,
): (res: HttpResponse, req: HttpRequest, withBody?: boolean) => { ex: Exchange; registry: ModelRegistry } | undefined {
  const token = parts.config.admin.token;
  const expected = token === null ? undefined : digest(token);
  return (res, req, withBody = false) => {
    const authorization = req.getHeader('authorization');
    const ex = new Exchange(res, req, parts.ctx, route, withBody);
    if (expected === undefined) {
      ex.fail(
        new GatewayError(
          'ADMIN_DISABLED',
          'admin routes are off: set admin.token (ORTLINE_ADMIN_TOKEN) to enable them',
        ),
      );
      return undefined;
    }
    const m = /^Bearer\s+(.+)$/i.exec(authorization);
    // Digests first: equal lengths for timingSafeEqual, and no early exit on a prefix.
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), expected)) {
      ex.fail(
        new GatewayError('UNAUTHORIZED', 'missing or wrong admin token: send Authorization: Bearer <admin.token>'),
        false,
        undefined,
        ['www-authenticate', 'Bearer realm="ortline-admin"'],
      );
      return undefined;
    }
    const registry = parts.registry;
    if (registry === undefined) {
      ex.fail(new GatewayError('MODEL_NOT_READY', 'models are still loading'));
      return undefined;
    }
    return { ex, registry };
  };
}
