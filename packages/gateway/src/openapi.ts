// The OpenAPI 3 document, built at start-up from the loaded models: each model's record schema
// comes from its feature schema (model.json), so the docs cannot drift from what is validated.
import type { FeatureSpec } from '@ortline/scorer';
import { MAX_TIMEOUT_MS } from './http/deadline.js';
import { ADMIN_SCHEMAS, adminPaths } from './openapi-admin.js';
import { readPaths, type ServedRoutes } from './openapi-read.js';
import { errorResponse, ref, retryAfter } from './openapi-responses.js';
import { publicSchemas } from './openapi-schemas.js';
import type { AnswerFields } from './predict/answer.js';
import { exampleRecord } from './predict/example.js';
import type { ModelRegistry } from './registry/registry.js';

type Json = Record<string, unknown>;

function featureSchema(f: FeatureSpec): Json {
  if (f.kind === 'categorical') return f.categories ? { type: 'string', enum: [...f.categories] } : { type: 'string' };
  const s: Json = { type: f.integer || f.dtype === 'int32' || f.dtype === 'int64' ? 'integer' : 'number' };
  if (f.min != null) s.minimum = f.min;
  if (f.max != null) s.maximum = f.max;
  if (!f.required) s.nullable = true;
  return s;
}

function recordSchema(
  features: readonly FeatureSpec[],
  idFields: readonly string[],
  answerId: string,
  example?: Json,
): Json {
  const properties: Json = {};
  for (const id of idFields)
    properties[id] = {
      anyOf: [{ type: 'string', nullable: true }, { type: 'number' }],
      description: `Record id (a string, a number or null): echoed as ${answerId}, never sent to the model.`,
    };
  for (const f of features) properties[f.name] = featureSchema(f);
  const s: Json = {
    type: 'object',
    additionalProperties: false,
    required: features.filter((f) => f.required).map((f) => f.name),
    properties,
  };
  if (example) s.example = example;
  return s;
}

export interface OpenApiOptions extends ServedRoutes {
  readonly registry: ModelRegistry;
  readonly version: string;
  /** The admin routes are on (an admin token is configured). */
  readonly admin: boolean;
  /** The status of a QUEUE_FULL refusal (overloadStatus). */
  readonly overloadStatus: number;
}

export function buildOpenApi(o: OpenApiOptions): Json {
  const { registry } = o;
  const names = registry.names();
  const active = names.map((name) => registry.entry(name)!.active);
  const inputNames = [...new Set(active.flatMap((mv) => mv.inputs.map((t) => t.name)))];
  const outputNames = [...new Set(active.flatMap((mv) => mv.outputs.map((t) => t.name)))];
  const schemas: Json = {
    ...publicSchemas(inputNames, outputNames),
    Predictions: {
      type: 'object',
      required: ['predictions'],
      additionalProperties: false,
      properties: { predictions: { type: 'array', items: ref('Prediction') } },
    },
  };

  const recordRefs: Json[] = [];
  const predictionRefs: Json[] = [];
  for (const mv of active) {
    const name = mv.name;
    const key = name.replace(/[^A-Za-z0-9_]/g, '_');
    const { fields, idFields } = mv.answers;
    schemas[`${key}_record`] = recordSchema(
      mv.schema.features,
      idFields,
      fields.id,
      idFields[0] === undefined
        ? exampleRecord(mv.schema.features)
        : { [idFields[0]]: 'C12345', ...exampleRecord(mv.schema.features) },
    );
    schemas[`${key}_prediction`] = predictionSchema(fields);
    recordRefs.push(ref(`${key}_record`));
    predictionRefs.push(ref(`${key}_prediction`));
  }
  const record = recordRefs.length === 1 ? recordRefs[0]! : { oneOf: recordRefs };
  // Each model answers with its own field names (its card's "answer").
  schemas.Prediction = predictionRefs.length === 1 ? predictionRefs[0]! : { anyOf: predictionRefs };
  const modelParam = { name: 'name', in: 'path', required: true, schema: { type: 'string', enum: names } };
  const versionParam = { name: 'version', in: 'path', required: true, schema: { type: 'string' } };
  const bodyTypes = (schema: Json) => ({ 'application/json': { schema }, 'application/msgpack': { schema } });

  const cacheControl = {
    name: 'Cache-Control',
    in: 'header',
    required: false,
    description:
      '`no-cache`: score fresh (no cache lookups), then refresh the caches. `no-store`: score fresh and store nothing.',
    schema: { type: 'string' },
  };
  const cacheHeader = {
    'x-ortline-cache': {
      description:
        'Where the scores came from: l1, l2, miss (computed), mixed (instances), bypass (opted out). Absent when no cache tier is on.',
      schema: { type: 'string', enum: ['l1', 'l2', 'miss', 'mixed', 'bypass'] },
    },
  };
  // A full queue answers overloadStatus; loading and draining answer 503. Both set Retry-After.
  const overload: Json = {
    503: {
      ...errorResponse('Not ready, shutting down, or (overloadStatus 503) the queue is full'),
      headers: retryAfter,
    },
  };
  if (o.overloadStatus !== 503)
    overload[o.overloadStatus] = { ...errorResponse('The queue is full (QUEUE_FULL)'), headers: retryAfter };
  const timeoutParam = {
    name: 'x-request-timeout-ms',
    in: 'header',
    required: false,
    description:
      "The deadline, in milliseconds from arrival (default: the gateway's requestTimeoutMs; an empty value counts as none given). Rows still queued when it passes are not run: 504 DEADLINE_EXCEEDED.",
    schema: {
      anyOf: [
        { type: 'integer', minimum: 1, maximum: MAX_TIMEOUT_MS },
        { type: 'string', maxLength: 0 },
      ],
    },
  };
  const deadline = {
    408: errorResponse('The body did not arrive within bodyTimeoutMs (REQUEST_TIMEOUT); the connection is closed'),
    504: errorResponse('The deadline passed before the rows ran (DEADLINE_EXCEEDED)'),
  };
  const predictOp = (summary: string, params: Json[]) => ({
    post: {
      tags: ['v1'],
      summary,
      parameters: [...params, cacheControl, timeoutParam],
      requestBody: {
        required: true,
        content: bodyTypes({
          oneOf: [
            record,
            { type: 'object', required: ['instances'], properties: { instances: { type: 'array', items: record } } },
          ],
        }),
      },
      responses: {
        200: {
          description: 'One prediction for a record; {"predictions": [...]} for instances.',
          headers: cacheHeader,
          content: bodyTypes({
            oneOf: [ref('Prediction'), ref('Predictions')],
          }),
        },
        400: errorResponse('Malformed body'),
        404: errorResponse('Unknown model or version'),
        413: errorResponse('Body too large, or too many instances'),
        415: errorResponse('Unsupported Content-Type'),
        422: errorResponse('Invalid features: every bad field listed'),
        ...overload,
        ...deadline,
      },
    },
  });
  const inferHeader = {
    name: 'Inference-Header-Content-Length',
    in: 'header',
    required: false,
    description:
      'The binary tensor data extension: the body is this many bytes of JSON request header (Content-Type does not matter), then the tensors named with `parameters.binary_data_size`, back to back.',
    schema: { type: 'integer', minimum: 0 },
  };
  const inferOp = (params: Json[]) => ({
    post: {
      tags: ['v2 (Open Inference Protocol)'],
      summary: 'Inference on tensors (JSON or MessagePack, or the binary tensor data extension)',
      parameters: [...params, inferHeader, timeoutParam],
      requestBody: {
        required: true,
        content: bodyTypes(ref('OipInferRequest')),
      },
      responses: {
        200: {
          description:
            'The outputs as JSON; with binary outputs asked for, the JSON header then the binary data, its length in Inference-Header-Content-Length.',
          headers: {
            'inference-header-content-length': {
              description: 'Binary outputs only: the length of the JSON header at the start of the body.',
              schema: { type: 'integer', minimum: 0 },
            },
          },
          content: {
            'application/json': { schema: ref('OipInferResponse') },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        400: errorResponse('Malformed body, request or tensors'),
        404: errorResponse('Unknown model or version'),
        413: errorResponse('Body too large'),
        415: errorResponse('Unsupported Content-Type, or a compressed body'),
        ...overload,
        ...deadline,
      },
    },
  });
  return {
    openapi: '3.0.3',
    info: {
      title: 'ortline gateway',
      version: o.version,
      description:
        'Real-time scoring of tabular ONNX models. Bodies are JSON or MessagePack (Content-Type / Accept). WebSocket: /v1/stream (frames {"id", "record"|"instances", "model"?, "cache"?}).',
    },
    paths: {
      '/v1/models/{name}/predict': predictOp('Score one record or many with the active version', [modelParam]),
      '/v1/models/{name}/versions/{version}/predict': predictOp('Score with a given version', [
        modelParam,
        versionParam,
      ]),
      '/v1/predict/{name}': predictOp('Alias of /v1/models/{name}/predict', [modelParam]),
      '/v2/models/{name}/infer': inferOp([modelParam]),
      '/v2/models/{name}/versions/{version}/infer': inferOp([modelParam, versionParam]),
      ...readPaths({ ...o, modelParam, versionParam }),
      ...(o.admin ? adminPaths(modelParam, versionParam) : {}),
    },
    components: o.admin
      ? {
          schemas: { ...schemas, ...ADMIN_SCHEMAS },
          securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
        }
      : { schemas },
  };
}

function predictionSchema(fields: AnswerFields): Json {
  return {
    type: 'object',
    required: [fields.id, fields.probability, fields.risk, 'model_version', 'prediction_id'],
    additionalProperties: false,
    properties: {
      [fields.id]: { description: "The record's id as it was sent; null when it carried none." },
      [fields.probability]: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        nullable: true,
        description: 'null only if the model answered a number that is not finite.',
      },
      [fields.risk]: {
        type: 'string',
        nullable: true,
        description: "From the model card's risk_thresholds; null when it has none.",
      },
      model_version: { type: 'string' },
      prediction_id: { type: 'string', description: 'Unique per prediction.' },
    },
  };
}
