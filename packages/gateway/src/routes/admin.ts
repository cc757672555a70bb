// Cache administration, behind the admin token (admin-auth.ts):
//   DELETE /admin/v1/models/{name}/cache                 flush every version of a model
//   DELETE /admin/v1/models/{name}/versions/{v}/cache    flush one version
// A flush deletes this process's L1 entries and the shared L2 keys of the model. Other replicas'
// L1 entries stay until their TTL (cache.l1.ttlMs).
import { GatewayError } from '../errors.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import { adminDoor } from './admin-auth.js';
import type { Router, ServerParts } from './parts.js';

export function mountAdmin(router: Router, parts: ServerParts): void {
  const open = adminDoor(parts, parts.metrics.route('admin'));

  function flush(res: HttpResponse, req: HttpRequest, name: string, version: string): void {
    const door = open(res, req);
    if (!door) return;
    const { ex, registry } = door;
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
