// The read side of the OpenAPI document: every GET the gateway serves (models, cards, drift, live
// statistics, OIP metadata and health, operations, the docs and the console), with the status
// codes and bodies each route answers. Routes switched off by the configuration are left out, as
// the server leaves them out.
import { errorResponse, ref, retryAfter } from './openapi-responses.js';

type Json = Record<string, unknown>;

/** Which optional routes the gateway serves, as its configuration switched them. */
export interface ServedRoutes {
  readonly metrics: boolean;
  readonly docs: boolean;
  readonly console: boolean;
  /** The files GET /docs/{file} and GET /assets/{file} serve. */
  readonly docsAssets: readonly string[];
  readonly consoleAssets: readonly string[];
}

export interface ReadPathOptions extends ServedRoutes {
  readonly modelParam: Json;
  readonly versionParam: Json;
}

// Routes that answer with `sendValue` honour Accept: either JSON or, when asked for, MessagePack.
const either = (description: string, schema: Json, headers?: Json) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema }, 'application/msgpack': { schema } },
});
const jsonOf = (description: string, schema: Json, headers?: Json) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/json': { schema } },
});
const unknownModel = errorResponse('Unknown model or version (MODEL_NOT_FOUND, VERSION_NOT_FOUND)');
const loading = errorResponse('Models still loading, or the version is not ready (MODEL_NOT_READY)');

const op = (tag: string, summary: string, parameters: Json[], responses: Json) => ({
  get: { tags: [tag], summary, parameters, responses },
});
const V1 = 'v1';
const OIP = 'v2 (Open Inference Protocol)';
const OPS = 'operations';

export function readPaths(o: ReadPathOptions): Json {
  const { modelParam, versionParam } = o;
  const describe = (summary: string, params: Json[]) =>
    op(V1, summary, params, {
      200: either('The version described', ref('ModelDescription')),
      404: unknownModel,
      503: loading,
    });
  const card = (summary: string, params: Json[]) =>
    op(V1, summary, params, { 200: either('model.json', ref('ModelCard')), 404: unknownModel, 503: loading });
  const oipMetadata = (summary: string, params: Json[]) =>
    op(OIP, summary, params, {
      200: jsonOf('Model metadata', ref('OipModelMetadata')),
      404: unknownModel,
      503: errorResponse('Models still loading (MODEL_NOT_READY)'),
    });
  const oipReady = (summary: string, params: Json[]) =>
    op(OIP, summary, params, {
      200: jsonOf('Ready', ref('OipModelReady')),
      404: unknownModel,
      503: jsonOf('Not ready, or models still loading', ref('OipModelReady'), retryAfter),
    });

  const paths: Json = {
    '/v1/models': op(V1, 'Loaded models (an empty list while loading)', [], {
      200: either('Models', ref('ModelList')),
    }),
    '/v1/models/{name}': describe('A model: versions, feature schema, risk thresholds, request limits', [modelParam]),
    '/v1/models/{name}/versions/{version}': describe('One version of a model, described as above', [
      modelParam,
      versionParam,
    ]),
    '/v1/models/{name}/card': card("The active version's model card (model.json)", [modelParam]),
    '/v1/models/{name}/versions/{version}/card': card("A version's model card (model.json)", [
      modelParam,
      versionParam,
    ]),
    '/v1/models/{name}/drift': op(
      V1,
      "Drift of a version's inputs and predictions against its model card's reference (PSI per feature)",
      [
        modelParam,
        {
          name: 'version',
          in: 'query',
          required: false,
          description: 'The version (default: the active one).',
          schema: { type: 'string' },
        },
      ],
      {
        200: either('The drift window', ref('Drift')),
        404: errorResponse('Unknown model or version, or drift not watched for it (DRIFT_NOT_WATCHED)'),
        503: loading,
      },
    ),
    '/v2': op(OIP, 'Server metadata', [], { 200: jsonOf('Server metadata', ref('OipServerMetadata')) }),
    '/v2/health/live': op(OIP, 'Liveness', [], {
      200: jsonOf('Alive', { type: 'object', required: ['live'], properties: { live: { type: 'boolean' } } }),
    }),
    '/v2/health/ready': op(OIP, 'Readiness', [], {
      200: jsonOf('Ready', { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean' } } }),
      503: jsonOf(
        'Loading or draining',
        { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean' } } },
        retryAfter,
      ),
    }),
    '/v2/models/{name}': oipMetadata('Model metadata (every ready version, the active signature)', [modelParam]),
    '/v2/models/{name}/versions/{version}': oipMetadata('Model version metadata', [modelParam, versionParam]),
    '/v2/models/{name}/ready': oipReady('Model readiness (its active version)', [modelParam]),
    '/v2/models/{name}/versions/{version}/ready': oipReady('Model version readiness', [modelParam, versionParam]),
    '/healthz': op(OPS, 'The process is alive', [], {
      200: jsonOf('Alive', {
        type: 'object',
        required: ['status'],
        properties: { status: { type: 'string', enum: ['alive'] } },
      }),
    }),
    '/readyz': op(OPS, 'Every model loaded and warmed, not draining; the state of every version', [], {
      200: either('Ready', ref('Readiness')),
      503: jsonOf('Loading or draining', ref('Readiness'), retryAfter),
    }),
  };
  if (o.metrics) {
    paths['/metrics'] = op(OPS, 'Prometheus metrics (text exposition format)', [], {
      200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
      500: errorResponse('The metrics could not be rendered (INTERNAL)'),
    });
    paths['/v1/live'] = op(
      V1,
      'Live statistics: one point a second over the last five minutes (prediction requests per second, latency p50 / p99, errors, cache hit ratio, rows per native run); `since` (ms since the epoch) returns only newer points',
      [
        {
          name: 'since',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        },
      ],
      {
        200: either('Points, oldest first', ref('Live')),
        400: errorResponse('`since` is not a whole number of milliseconds (INVALID_REQUEST)'),
      },
    );
  }
  if (o.docs) {
    const html = (description: string) => ({ description, content: { 'text/html': { schema: { type: 'string' } } } });
    paths['/openapi.json'] = op(OPS, 'This document', [], {
      200: { description: 'OpenAPI 3.0', content: { 'application/json': { schema: { type: 'object' } } } },
      503: loading,
    });
    paths['/docs'] = op(OPS, 'Swagger UI over this document', [], { 200: html('The page') });
    paths['/docs/'] = op(OPS, 'The same page', [], { 200: html('The page') });
    paths['/docs/{file}'] = op(
      OPS,
      "Swagger UI's files",
      [{ name: 'file', in: 'path', required: true, schema: { type: 'string', enum: [...o.docsAssets] } }],
      {
        200: { description: 'The file', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        404: errorResponse('No such file (ROUTE_NOT_FOUND)'),
      },
    );
  }
  if (o.console) {
    paths['/'] = op(OPS, 'The web console', [], {
      200: { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
      404: errorResponse('The console was not built (CONSOLE_NOT_BUILT)'),
    });
    paths['/assets/{file}'] = op(
      OPS,
      "The console's script and style sheet (content-hashed names, cached for a year)",
      [
        {
          name: 'file',
          in: 'path',
          required: true,
          // Unbuilt, the console serves no file (an empty enum is not valid OpenAPI).
          schema: o.consoleAssets.length > 0 ? { type: 'string', enum: [...o.consoleAssets] } : { type: 'string' },
        },
      ],
      {
        200: { description: 'The file', content: { '*/*': { schema: { type: 'string', format: 'binary' } } } },
        404: errorResponse('No such file (ROUTE_NOT_FOUND)'),
      },
    );
  }
  return paths;
}
