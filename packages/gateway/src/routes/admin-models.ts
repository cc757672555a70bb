// Model lifecycle administration, behind the admin token (admin-auth.ts):
//   GET    /admin/v1/models                              every model: routing and version states
//   GET    /admin/v1/models/{name}                       {name, routing, versions: [{version, state, reason?}]}
//   POST   /admin/v1/models/{name}/versions/{v}/load     200 once ready; 422 MODEL_REJECTED with the gate's reason
//   DELETE /admin/v1/models/{name}/versions/{v}          200 once drained; 409 while active or canary
//   PUT    /admin/v1/models/{name}/routing               any of active, canary, shadow (null clears)
//   POST   /admin/v1/models/{name}/rollback              the previous active version is active again
import { GatewayError } from '../errors.js';
import { type DecodeError, decodeBody, JSON_FORMAT, UNSUPPORTED } from '../http/codec.js';
import type { Exchange } from '../http/exchange.js';
import type { ModelEntry } from '../registry/entry.js';
import { parseRoutingChange, RoutingError } from '../registry/routing.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import { adminDoor } from './admin-auth.js';
import type { Router, ServerParts } from './parts.js';

/** What every lifecycle route answers with: the model as it is after the operation. */
export function describeModel(e: ModelEntry): unknown {
  return { name: e.name, routing: e.routing, versions: e.statuses() };
}

export function mountAdminModels(router: Router, parts: ServerParts): void {
  const open = adminDoor(parts, parts.metrics.route('admin'));

  /** Runs `op` on the named model once let in; answers the model's description or the error. */
  function withModel(
    res: HttpResponse,
    req: HttpRequest,
    op: (e: ModelEntry, ex: Exchange) => unknown | Promise<unknown>,
    withBody = false,
  ): void {
    const name = req.getParameter(0);
    const door = open(res, req, withBody);
    if (!door) return;
    const { ex, registry } = door;
    let entry: ModelEntry;
    try {
      entry = registry.model(name);
      const done = op(entry, ex);
      if (done instanceof Promise)
        done.then(
          () => ex.sendValue(200, describeModel(entry)),
          (err: unknown) => ex.fail(err),
        );
      else ex.sendValue(200, describeModel(entry));
    } catch (err) {
      ex.fail(err);
    }
  }

  router.get('/admin/v1/models', (res, req) => {
    const door = open(res, req);
    if (!door) return;
    const { ex, registry } = door;
    ex.sendValue(200, { models: registry.names().map((n) => describeModel(registry.model(n))) });
  });

  router.get('/admin/v1/models/:name', (res, req) => withModel(res, req, () => undefined));

  // models.control none: the set of loaded versions is fixed at start.
  const controlled = <T>(op: () => T): T => {
    if (parts.config.models.control === 'none')
      throw new GatewayError(
        'MODEL_CONTROL_DISABLED',
        'loading and unloading versions is off (models.control is none); set it to explicit or poll',
      );
    return op();
  };

  router.post('/admin/v1/models/:name/versions/:version/load', (res, req) => {
    const version = req.getParameter(1);
    withModel(res, req, (e) => controlled(() => e.load(version)));
  });

  router.del('/admin/v1/models/:name/versions/:version', (res, req) => {
    const version = req.getParameter(1);
    withModel(res, req, (e) => controlled(() => e.unload(version)));
  });

  router.post('/admin/v1/models/:name/rollback', (res, req) => withModel(res, req, (e) => e.rollback()));

  router.put('/admin/v1/models/:name/routing', (res, req) =>
    withModel(
      res,
      req,
      (e, ex) =>
        new Promise<void>((resolve, reject) => {
          const format = ex.bodyFormat();
          if (format === UNSUPPORTED) {
            reject(
              new GatewayError('UNSUPPORTED_MEDIA_TYPE', 'send the routing as JSON or MessagePack', {
                content_type: ex.contentType,
              }),
            );
            return;
          }
          ex.readBody((_, bytes) => {
            try {
              let body: unknown;
              try {
                body = decodeBody(bytes, format ?? JSON_FORMAT);
              } catch (err) {
                throw new GatewayError('MALFORMED_BODY', (err as DecodeError).message);
              }
              let change: ReturnType<typeof parseRoutingChange>;
              try {
                change = parseRoutingChange(body, 'routing');
              } catch (err) {
                if (!(err instanceof RoutingError)) throw err;
                throw new GatewayError('INVALID_REQUEST', err.message, err.field ? { field: err.field } : {});
              }
              e.route(change);
              resolve();
            } catch (err) {
              reject(err);
            }
          });
        }),
      true,
    ),
  );
}
