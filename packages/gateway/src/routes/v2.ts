// Open Inference Protocol v2 (KServe / Triton REST), so their unmodified clients work:
//   GET  /v2                                         server metadata
//   GET  /v2/health/live, /v2/health/ready
//   GET  /v2/models/{name}[/versions/{v}]            model metadata
//   GET  /v2/models/{name}[/versions/{v}]/ready
//   POST /v2/models/{name}[/versions/{v}]/infer      JSON tensors, or the binary tensor data
//                                                    extension (Inference-Header-Content-Length)
import { GatewayError } from '../errors.js';
import { DecodeError, decodeBody, JSON_FORMAT, UNSUPPORTED } from '../http/codec.js';
import { deadlineOf, timeoutFromHeader } from '../http/deadline.js';
import { Exchange } from '../http/exchange.js';
import { encodeInferResponse, type InferRequest, parseInferRequest } from '../oip/tensors.js';
import type { ModelVersion } from '../registry/model-version.js';
import type { HttpRequest, HttpResponse } from '../uws.js';
import { type Router, resolveModel, type ServerParts } from './parts.js';
import { unsupported } from './v1.js';

export const OIP_EXTENSIONS = ['binary_tensor_data'] as const;

export function mountV2(router: Router, parts: ServerParts): void {
  const health = parts.metrics.route('v2_health');
  const meta = parts.metrics.route('v2_metadata');
  const inferRoute = parts.metrics.route('v2_infer');
  const timeoutMs = parts.config.requestTimeoutMs;
  const serverMetadata = JSON.stringify({ name: 'ortline', version: parts.version, extensions: OIP_EXTENSIONS });

  router.get('/v2', (res, req) => new Exchange(res, req, parts.ctx, meta, false).sendJson(200, serverMetadata));
  router.get('/v2/health/live', (res, req) =>
    new Exchange(res, req, parts.ctx, health, false).sendJson(200, '{"live":true}'),
  );
  router.get('/v2/health/ready', (res, req) => {
    const ex = new Exchange(res, req, parts.ctx, health, false);
    if (parts.ready) ex.sendJson(200, '{"ready":true}');
    else ex.sendRaw(503, 'application/json', '{"ready":false}', ['retry-after', parts.ctx.retryAfter]);
  });

  const metadata = (res: HttpResponse, req: HttpRequest, name: string, version: string) => {
    const ex = new Exchange(res, req, parts.ctx, meta, false);
    const registry = parts.registry;
    if (registry === undefined) {
      ex.fail(new GatewayError('MODEL_NOT_READY', 'models are still loading'));
      return;
    }
    try {
      const mv = registry.resolve(name, version);
      ex.labels = mv.labels;
      ex.sendJson(200, version === '' ? registry.entry(name)!.oipMetadataJson : mv.oipMetadataJson);
    } catch (err) {
      ex.fail(err);
    }
  };
  router.get('/v2/models/:name', (res, req) => metadata(res, req, req.getParameter(0), ''));
  router.get('/v2/models/:name/versions/:version', (res, req) =>
    metadata(res, req, req.getParameter(0), req.getParameter(1)),
  );

  const modelReady = (res: HttpResponse, req: HttpRequest, name: string, version: string) => {
    const ex = new Exchange(res, req, parts.ctx, health, false);
    const registry = parts.registry;
    if (registry === undefined) {
      ex.sendRaw(503, 'application/json', JSON.stringify({ name, ready: false }), [
        'retry-after',
        parts.ctx.retryAfter,
      ]);
      return;
    }
    try {
      const mv = registry.resolve(name, version);
      ex.labels = mv.labels;
      const body = JSON.stringify({ name: mv.name, version: mv.version, ready: mv.ready });
      if (mv.ready) ex.sendJson(200, body);
      else ex.sendRaw(503, 'application/json', body, ['retry-after', parts.ctx.retryAfter]);
    } catch (err) {
      ex.fail(err);
    }
  };
  router.get('/v2/models/:name/ready', (res, req) => modelReady(res, req, req.getParameter(0), ''));
  router.get('/v2/models/:name/versions/:version/ready', (res, req) =>
    modelReady(res, req, req.getParameter(0), req.getParameter(1)),
  );

  function onBody(ex: Exchange, bytes: Uint8Array): void {
    let mv: ModelVersion;
    try {
      // Again now the body is here: the version may have been unloaded meanwhile.
      mv = parts.registry!.resolve(ex.model!.name, ex.pinned);
    } catch (err) {
      ex.fail(err);
      return;
    }
    let request: InferRequest;
    try {
      let header: unknown;
      let binary: Uint8Array | undefined;
      if (ex.inferenceHeaderLength !== '') {
        const hlen = Number(ex.inferenceHeaderLength);
        if (!Number.isSafeInteger(hlen) || hlen < 0 || hlen > bytes.byteLength) {
          throw new GatewayError(
            'MALFORMED_BODY',
            `Inference-Header-Content-Length ${ex.inferenceHeaderLength} does not fit a body of ${bytes.byteLength} bytes`,
          );
        }
        header = decodeBody(bytes.subarray(0, hlen), JSON_FORMAT);
        binary = bytes.subarray(hlen);
      } else {
        header = decodeBody(bytes, ex.format);
      }
      // Parsing copies every tensor out of the body, which uWS reclaims after this callback.
      request = parseInferRequest(header, binary, mv);
      ex.deadline = deadlineOf(ex.start, timeoutMs, ex.clientTimeoutMs, request.timeoutMs);
    } catch (err) {
      ex.fail(err instanceof DecodeError ? new GatewayError('MALFORMED_BODY', err.message) : err);
      return;
    }
    void infer(ex, mv, request);
  }

  async function infer(ex: Exchange, mv: ModelVersion, request: InferRequest): Promise<void> {
    try {
      const outputs = await mv.scorer.infer(request.feeds, request.rows, ex);
      (ex.pinned !== '' ? mv.predictions.pinned : mv.predictions.active)(request.rows);
      if (ex.aborted) return;
      const r = encodeInferResponse(mv.name, mv.version, request.id, request.outputs, outputs, mv);
      if (r.headerLength === undefined) ex.sendRaw(200, r.contentType, r.body);
      else ex.sendRaw(200, r.contentType, r.body, ['inference-header-content-length', String(r.headerLength)]);
    } catch (err) {
      ex.fail(err);
    }
  }

  const inferHandler = (res: HttpResponse, req: HttpRequest, name: string, version: string) => {
    const ex = new Exchange(res, req, parts.ctx, inferRoute, true, true);
    if (resolveModel(parts, ex, name, version) === undefined) return;
    try {
      ex.clientTimeoutMs = timeoutFromHeader(ex.timeoutHeader);
    } catch (err) {
      ex.fail(err);
      return;
    }
    if (ex.inferenceHeaderLength === '') {
      const format = ex.bodyFormat();
      if (format === UNSUPPORTED) {
        ex.fail(unsupported(ex));
        return;
      }
      ex.format = format;
    } else if (ex.contentEncoding !== '' && ex.contentEncoding !== 'identity') {
      ex.fail(unsupported(ex));
      return;
    }
    if (ex.shed()) return;
    ex.readBody(onBody);
  };
  router.post('/v2/models/:name/infer', (res, req) => inferHandler(res, req, req.getParameter(0), ''));
  router.post('/v2/models/:name/versions/:version/infer', (res, req) =>
    inferHandler(res, req, req.getParameter(0), req.getParameter(1)),
  );
}
