// v1: predictions for records.
//   POST /v1/models/{name}/predict                 (active version)
//   POST /v1/models/{name}/versions/{v}/predict
//   POST /v1/predict/{name}                        (alias)
//   GET  /v1/models, /v1/models/{name}             (what is loaded, feature schemas)
// One record answers one prediction object; {"instances": [...]} answers {"predictions": [...]}.
import { directiveOf } from '../cache/directive.js';
import { GatewayError } from '../errors.js';
import { type DecodeError, decodeBody, JSON_FORMAT, UNSUPPORTED } from '../http/codec.js';
import { deadlineOf, timeoutFromHeader } from '../http/deadline.js';
import { Exchange } from '../http/exchange.js';
import { answerHeaders, scoreRouted, versionAt } from '../predict/route.js';
import type { ModelEntry } from '../registry/entry.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import { type RouteMetric, type Router, resolveModel, type ServerParts } from './parts.js';

export function mountV1(router: Router, parts: ServerParts): void {
  const route = parts.metrics.route('v1_predict');
  const maxInstances = parts.config.maxInstances;
  const timeoutMs = parts.config.requestTimeoutMs;

  function onBody(ex: Exchange, bytes: Uint8Array): void {
    let value: unknown;
    try {
      value = decodeBody(bytes, ex.format);
    } catch (err) {
      ex.fail(new GatewayError('MALFORMED_BODY', (err as DecodeError).message), false, ex.format);
      return;
    }
    void score(ex, value);
  }

  async function score(ex: Exchange, value: unknown): Promise<void> {
    try {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new GatewayError(
          'INVALID_REQUEST',
          'expected one record (a JSON object of feature values) or {"instances": [records]}',
          { got: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value },
        );
      }
      // The model as it is now (the body may have taken a while): the version is picked here.
      const entry = parts.registry!.model(ex.model!.name);
      const instances = (value as { instances?: unknown }).instances;
      const directive = directiveOf(ex.cacheControl);
      if (instances === undefined) {
        const records = [value];
        const routed = await scoreRouted(entry, ex.pinned, records, directive, ex);
        if (ex.aborted) return;
        const mv = versionAt(routed, 0);
        ex.labels = mv.labels;
        if (ex.answerFormat(ex.format) === JSON_FORMAT)
          ex.sendJson(200, mv.answers.json(value, routed.scores[0]!), answerHeaders(routed));
        else ex.sendValue(200, mv.answers.object(value, routed.scores[0]!), ex.format, answerHeaders(routed));
        parts.traffic?.answered(ex, records, routed);
        return;
      }
      if (!Array.isArray(instances))
        throw new GatewayError('INVALID_REQUEST', '"instances" must be an array of records', { field: 'instances' });
      if (instances.length > maxInstances) {
        throw new GatewayError(
          'TOO_MANY_INSTANCES',
          `${instances.length} instances in one request; the limit is ${maxInstances}`,
          { count: instances.length, limit: maxInstances },
        );
      }
      const routed = await scoreRouted(entry, ex.pinned, instances, directive, ex);
      if (ex.aborted) return;
      const scores = routed.scores;
      if (!Array.isArray(routed.versions)) ex.labels = (routed.versions as ModelVersion).labels;
      if (ex.answerFormat(ex.format) === JSON_FORMAT) {
        let json = '{"predictions":[';
        for (let i = 0; i < scores.length; i++)
          json += (i === 0 ? '' : ',') + versionAt(routed, i).answers.json(instances[i], scores[i]!);
        ex.sendJson(200, `${json}]}`, answerHeaders(routed));
      } else {
        const predictions = new Array(scores.length);
        for (let i = 0; i < scores.length; i++)
          predictions[i] = versionAt(routed, i).answers.object(instances[i], scores[i]!);
        ex.sendValue(200, { predictions }, ex.format, answerHeaders(routed));
      }
      parts.traffic?.answered(ex, instances, routed);
    } catch (err) {
      ex.fail(err, false, ex.format);
    }
  }

  function predict(res: HttpResponse, req: HttpRequest, route: RouteMetric, name: string, version: string): void {
    const ex = new Exchange(res, req, parts.ctx, route, true);
    if (resolveModel(parts, ex, name, version) === undefined) return;
    const format = ex.bodyFormat();
    if (format === UNSUPPORTED) {
      ex.fail(unsupported(ex));
      return;
    }
    ex.format = format;
    try {
      ex.deadline = deadlineOf(ex.start, timeoutMs, timeoutFromHeader(ex.timeoutHeader));
    } catch (err) {
      ex.fail(err);
      return;
    }
    if (ex.shed()) return;
    ex.readBody(onBody);
  }

  router.post('/v1/models/:name/predict', (res, req) => predict(res, req, route, req.getParameter(0), ''));
  router.post('/v1/models/:name/versions/:version/predict', (res, req) =>
    predict(res, req, route, req.getParameter(0), req.getParameter(1)),
  );
  router.post('/v1/predict/:name', (res, req) => predict(res, req, route, req.getParameter(0), ''));

  const info = parts.metrics.route('v1_models');
  router.get('/v1/models', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, info, false);
    const registry = parts.registry;
    const models = registry ? registry.names().map((n) => describe(registry.entry(n)!, registry.entry(n)!.active)) : [];
    ex.sendValue(200, { models });
  });
  const version = (res: HttpResponse, req: HttpRequest, name: string, v: string) => {
    const ex = new Exchange(res, req, parts.ctx, info, false);
    const mv = resolveModel(parts, ex, name, v);
    if (!mv) return;
    const model = describe(parts.registry!.entry(mv.name)!, mv, true);
    // What a client splitting a file into requests needs to know.
    model.limits = { max_instances: parts.config.maxInstances, max_body_bytes: parts.config.maxBodyBytes };
    ex.sendValue(200, model);
  };
  // The model card as the version's folder holds it (model.json): metrics, thresholds, training
  // data, reference distributions. Public, like the documentation it is.
  const card = (res: HttpResponse, req: HttpRequest, name: string, v: string) => {
    const ex = new Exchange(res, req, parts.ctx, info, false);
    const mv = resolveModel(parts, ex, name, v);
    if (mv) ex.sendValue(200, mv.card);
  };
  router.get('/v1/models/:name/card', (res, req) => card(res, req, req.getParameter(0), ''));
  router.get('/v1/models/:name/versions/:version/card', (res, req) =>
    card(res, req, req.getParameter(0), req.getParameter(1)),
  );
  router.get('/v1/models/:name', (res, req) => version(res, req, req.getParameter(0), ''));
  router.get('/v1/models/:name/versions/:version', (res, req) =>
    version(res, req, req.getParameter(0), req.getParameter(1)),
  );
}

export function unsupported(ex: Exchange): GatewayError {
  if (ex.contentEncoding !== '' && ex.contentEncoding !== 'identity') {
    return new GatewayError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Encoding "${ex.contentEncoding}" is not supported; send the body uncompressed`,
      { contentEncoding: ex.contentEncoding },
    );
  }
  return new GatewayError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type "${ex.contentType}" is not supported; use application/json or application/msgpack`,
    {
      contentType: ex.contentType,
      supported: ['application/json', 'application/msgpack'],
    },
  );
}

/** A model (`full`: the version `mv` of it, with what a client needs to call and read it). */
function describe(entry: ModelEntry, mv: ModelVersion, full = false): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: mv.name,
    active_version: entry.active.version,
    versions: [...entry.versions.keys()],
    ready: mv.ready,
  };
  if (full) {
    out.version = mv.version;
    out.features = mv.schema.features;
    out.risk_thresholds = mv.card.risk_thresholds ?? [];
    out.output = mv.card.output ?? null;
    out.id_fields = [...mv.schema.passthrough];
    const f = mv.answers.fields;
    out.answer = { id_field: f.id, probability_field: f.probability, risk_field: f.risk };
    out.fixed_features = mv.fixedFeatures;
  }
  return out;
}
