// Administration, behind a bearer token (`admin.token`, env ORTLINE_ADMIN_TOKEN):
//   DELETE /admin/v1/models/{name}/cache                 flush every version of a model
//   DELETE /admin/v1/models/{name}/versions/{v}/cache    flush one version
// A flush deletes this process's L1 entries and the shared L2 keys of the model. Other replicas'
// L1 entries stay until their TTL (cache.l1.ttlMs). Without a token configured the routes answer
// 403 ADMIN_DISABLED: an unauthenticated flush would let anyone empty the cache.
import { createHash, timingSafeEqual } from 'node:crypto';
import { GatewayError } from '../errors.js';
import { Exchange } from '../http/exchange.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import type { Router, ServerParts } from './parts.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function mountAdmin(router: Router, parts: ServerParts): void {
  const route = parts.metrics.route('admin');
  const token = parts.config.admin.token;
  const expected = token === null ? undefined : digest(token);

  function flush(res: HttpResponse, req: HttpRequest, name: string, version: string): void {
    const authorization = req.getHeader('authorization');
    const ex = new Exchange(res, req, parts.ctx, route, false);
    if (expected === undefined) {
      ex.fail(
        new GatewayError(
          'ADMIN_DISABLED',
          'admin routes are off: set admin.token (ORTLINE_ADMIN_TOKEN) to enable them',
        ),
      );
      return;
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
      return;
    }
    const registry = parts.registry;
    if (registry === undefined) {
      ex.fail(new GatewayError('MODEL_NOT_READY', 'models are still loading'));
      return;
    }
    let versionKey: string | undefined;
    try {
      const mv = registry.resolve(name, version);
      versionKey = version === '' ? undefined : mv.version;
      if (versionKey !== undefined) ex.labels = mv.labels;
    } catch (err) {
      ex.fail(err);
      return;
    }
    const cache = parts.cache;
    if (cache === undefined) {
      ex.sendValue(200, { model: name, version: versionKey ?? null, l1_deleted: 0, l2_deleted: null });
      return;
    }
    cache.flush(name, versionKey).then(
      (r) => {
        parts.log.info({ model: name, version: versionKey, l1: r.l1, l2: r.l2 }, 'cache flushed');
        ex.sendValue(200, { model: name, version: versionKey ?? null, l1_deleted: r.l1, l2_deleted: r.l2 });
      },
      (err: Error & { l1Deleted?: number }) => {
        parts.log.warn(
          { model: name, version: versionKey, err: { message: err.message } },
          'cache flush did not reach Redis',
        );
        ex.fail(
          new GatewayError('CACHE_UNAVAILABLE', `L1 flushed, but Redis could not be flushed: ${err.message}`, {
            model: name,
            l1_deleted: err.l1Deleted ?? 0,
          }),
        );
      },
    );
  }

  router.del('/admin/v1/models/:name/cache', (res, req) => flush(res, req, req.getParameter(0), ''));
  router.del('/admin/v1/models/:name/versions/:version/cache', (res, req) =>
    flush(res, req, req.getParameter(0), req.getParameter(1)),
  );
}
