// The OpenAPI 3 document, built at start-up from the loaded models: each model's record schema
// comes from its feature schema (model.json), so the docs cannot drift from what is validated.
import type { FeatureSpec } from '@ortline/scorer';
import { ERROR_TABLE } from './errors.js';
import { ADMIN_SCHEMAS, adminPaths } from './openapi-admin.js';
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

// Errors come as MessagePack when the client's Accept (or, for predictions, its request body) is
// MessagePack, else as JSON.
const errorSchema = { $ref: '#/components/schemas/Error' };
export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema }, 'application/msgpack': { schema: errorSchema } },
});

/** `admin`: whether the admin routes are on (an admin token is configured). */
export function buildOpenApi(registry: ModelRegistry, version: string, admin: boolean): Json {
  const names = registry.names();
  const active = names.map((name) => registry.entry(name)!.active);
  const inputNames = [...new Set(active.flatMap((mv) => mv.inputs.map((t) => t.name)))];
  const outputNames = [...new Set(active.flatMap((mv) => mv.outputs.map((t) => t.name)))];
  const schemas: Json = {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message', 'details'],
          properties: {
            code: { type: 'string', enum: Object.keys(ERROR_TABLE) },
            message: { type: 'string' },
            details: {
              type: 'object',
              description:
                'For INVALID_FEATURES: {"issues": [{row, field, code, expected, got, message}]}, every bad field of every row.',
            },
          },
        },
      },
    },
    Predictions: {
      type: 'object',
      required: ['predictions'],
      additionalProperties: false,
      properties: { predictions: { type: 'array', items: { $ref: '#/components/schemas/Prediction' } } },
    },
    Drift: DRIFT_SCHEMA,
    OipTensor: {
      type: 'object',
      required: ['name', 'shape', 'datatype'],
      properties: {
        name: { type: 'string' },
        shape: { type: 'array', items: { type: 'integer' } },
        datatype: {
          type: 'string',
          enum: [
            'BOOL',
            'UINT8',
            'UINT16',
            'UINT32',
            'UINT64',
            'INT8',
            'INT16',
            'INT32',
            'INT64',
            'FP16',
            'FP32',
            'FP64',
            'BYTES',
          ],
        },
        parameters: { type: 'object', properties: { binary_data_size: { type: 'integer' } } },
        data: { type: 'array', items: {} },
      },
    },
    OipInferRequest: {
      type: 'object',
      required: ['inputs'],
      properties: {
        id: { type: 'string' },
        parameters: { type: 'object', properties: { binary_data_output: { type: 'boolean' } } },
        inputs: {
          type: 'array',
          minItems: 1,
          description:
            'One tensor per input of the model (GET /v2/models/{name} lists them), each once, every one of the same batch size.',
          items: {
            allOf: [
              { $ref: '#/components/schemas/OipTensor' },
              { type: 'object', properties: { name: { type: 'string', enum: inputNames } } },
            ],
          },
        },
        outputs: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string', enum: outputNames },
              parameters: { type: 'object', properties: { binary_data: { type: 'boolean' } } },
            },
          },
        },
      },
    },
    OipInferResponse: {
      type: 'object',
      properties: {
        model_name: { type: 'string' },
        model_version: { type: 'string' },
        id: { type: 'string' },
        outputs: { type: 'array', items: { $ref: '#/components/schemas/OipTensor' } },
      },
    },
  };

  const recordRefs: Json[] = [];
  const predictionRefs: Json[] = [];
  for (const name of names) {
    const mv = registry.entry(name)!.active;
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
    recordRefs.push({ $ref: `#/components/schemas/${key}_record` });
    predictionRefs.push({ $ref: `#/components/schemas/${key}_prediction` });
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
  const predictOp = (summary: string, params: Json[]) => ({
    post: {
      tags: ['v1'],
      summary,
      parameters: [...params, cacheControl],
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
            oneOf: [{ $ref: '#/components/schemas/Prediction' }, { $ref: '#/components/schemas/Predictions' }],
          }),
        },
        400: errorResponse('Malformed body'),
        404: errorResponse('Unknown model or version'),
        413: errorResponse('Body too large, or too many instances'),
        415: errorResponse('Unsupported Content-Type'),
        422: errorResponse('Invalid features: every bad field listed'),
        503: errorResponse('Queue full (or 429, see overloadStatus); Retry-After set'),
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
      parameters: [...params, inferHeader],
      requestBody: {
        required: true,
        content: bodyTypes({ $ref: '#/components/schemas/OipInferRequest' }),
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
            'application/json': { schema: { $ref: '#/components/schemas/OipInferResponse' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        400: errorResponse('Malformed body, request or tensors'),
        404: errorResponse('Unknown model or version'),
        413: errorResponse('Body too large'),
        415: errorResponse('Unsupported Content-Type, or a compressed body'),
        503: errorResponse('Queue full (or 429, see overloadStatus), or not ready; Retry-After set'),
      },
    },
  });
  const get = (tag: string, summary: string, params: Json[] = [], more: Json = {}) => ({
    get: {
      tags: [tag],
      summary,
      parameters: params,
      responses: {
        200: { description: 'OK' },
        404: errorResponse('Unknown model or version'),
        503: { description: 'Not ready' },
        ...more,
      },
    },
  });

  return {
    openapi: '3.0.3',
    info: {
      title: 'ortline gateway',
      version,
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
      '/v1/models': get('v1', 'Loaded models'),
      '/v1/models/{name}': get('v1', 'A model: versions, feature schema, risk thresholds, request limits', [
        modelParam,
      ]),
      '/v1/models/{name}/versions/{version}': get('v1', 'One version of a model, described as above', [
        modelParam,
        versionParam,
      ]),
      '/v1/models/{name}/card': get('v1', "The active version's model card (model.json)", [modelParam]),
      '/v1/models/{name}/versions/{version}/card': get('v1', "A version's model card (model.json)", [
        modelParam,
        versionParam,
      ]),
      '/v1/models/{name}/drift': driftOp(modelParam),
      '/v1/live': get(
        'v1',
        'Live statistics: one point a second over the last five minutes (prediction requests per second, latency p50 / p99, errors, cache hit ratio, rows per native run); `since` (ms since the epoch) returns only newer points',
        [
          {
            name: 'since',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
          },
        ],
        { 400: errorResponse('`since` is not a whole number of milliseconds (INVALID_REQUEST)') },
      ),
      '/v2': get('v2 (Open Inference Protocol)', 'Server metadata'),
      '/v2/health/live': get('v2 (Open Inference Protocol)', 'Liveness'),
      '/v2/health/ready': get('v2 (Open Inference Protocol)', 'Readiness'),
      '/v2/models/{name}': get('v2 (Open Inference Protocol)', 'Model metadata', [modelParam]),
      '/v2/models/{name}/versions/{version}': get('v2 (Open Inference Protocol)', 'Model version metadata', [
        modelParam,
        versionParam,
      ]),
      '/v2/models/{name}/ready': get('v2 (Open Inference Protocol)', 'Model readiness', [modelParam]),
      '/v2/models/{name}/versions/{version}/ready': get('v2 (Open Inference Protocol)', 'Model version readiness', [
        modelParam,
        versionParam,
      ]),
      '/v2/models/{name}/infer': inferOp([modelParam]),
      '/v2/models/{name}/versions/{version}/infer': inferOp([modelParam, versionParam]),
      '/healthz': get('operations', 'The process is alive'),
      '/readyz': get('operations', 'Models loaded and warmed'),
      '/metrics': get('operations', 'Prometheus metrics'),
      ...(admin ? adminPaths(modelParam, versionParam) : {}),
    },
    components: admin
      ? {
          schemas: { ...schemas, ...ADMIN_SCHEMAS },
          securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
        }
      : { schemas },
  };
}

const binsSchema = {
  type: 'array',
  description: 'Every bin: its label, the reference share and the share in the window.',
  items: {
    type: 'object',
    required: ['label', 'reference', 'current'],
    properties: { label: { type: 'string' }, reference: { type: 'number' }, current: { type: 'number' } },
  },
};
const layoutSchema = {
  type: 'object',
  required: ['name', 'psi', 'status', 'bins'],
  properties: {
    name: { type: 'string' },
    psi: { type: 'number', nullable: true, description: 'null while the window holds fewer than min_rows rows.' },
    status: {
      type: 'string',
      enum: ['ok', 'watch', 'drift', 'insufficient_data'],
      description: 'ok: psi < 0.1; watch: 0.1 to 0.25; drift: > 0.25.',
    },
    bins: binsSchema,
  },
};
const DRIFT_SCHEMA = {
  type: 'object',
  required: ['model', 'version', 'window', 'features', 'prediction'],
  properties: {
    model: { type: 'string' },
    version: { type: 'string' },
    window: {
      type: 'object',
      required: ['rows', 'since', 'min_rows'],
      properties: {
        rows: { type: 'integer', description: 'Rows in the window now.' },
        since: { type: 'string', format: 'date-time', nullable: true, description: 'When its oldest row came.' },
        max_rows: { type: 'integer', description: 'A window by rows: its size (drift.windowRows).' },
        seconds: { type: 'integer', description: 'A window by time: its length (drift.windowSeconds).' },
        min_rows: { type: 'integer', description: 'Fewer rows than this: no PSI (drift.minRows).' },
      },
    },
    features: { type: 'array', items: layoutSchema, description: "Every feature of the card's reference." },
    prediction: layoutSchema,
  },
};

function driftOp(modelParam: Json): Json {
  return {
    get: {
      tags: ['v1'],
      summary: "Drift of a version's inputs and predictions against its model card's reference (PSI per feature)",
      parameters: [
        modelParam,
        {
          name: 'version',
          in: 'query',
          required: false,
          description: 'The version (default: the active one).',
          schema: { type: 'string' },
        },
      ],
      responses: {
        200: {
          description: 'The drift window',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Drift' } } },
        },
        404: errorResponse('Unknown model or version, or drift not watched for it (DRIFT_NOT_WATCHED)'),
        503: errorResponse('Models still loading'),
      },
    },
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
