// The response bodies of the public read endpoints, as OpenAPI 3.0 component schemas. Each one
// states what the route builds (routes/v1.ts, ops.ts, live.ts, v2.ts); the fuzz test checks the
// served answers against them.
import { ERROR_TABLE } from './errors.js';
import { MAX_TIMEOUT_MS } from './http/deadline.js';
import { ref } from './openapi-responses.js';
import { GATE_REASONS } from './registry/gate.js';

type Json = Record<string, unknown>;

const strings = { type: 'array', items: { type: 'string' } };
const nullableNumber = { type: 'number', nullable: true };

const OIP_DATATYPES = [
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
];

const FEATURE: Json = {
  type: 'object',
  required: ['name', 'kind', 'dtype', 'required'],
  properties: {
    name: { type: 'string' },
    kind: { type: 'string', enum: ['numeric', 'categorical'] },
    dtype: { type: 'string', description: 'Element type of the ONNX input the feature feeds.' },
    integer: { type: 'boolean', description: 'Numeric only: whole numbers only.' },
    required: { type: 'boolean' },
    default: {
      nullable: true,
      description: 'Used when an optional feature is missing; null sends NaN for the model to impute.',
    },
    min: nullableNumber,
    max: nullableNumber,
    categories: { ...strings, description: 'Categorical only: the values it takes; absent, any string.' },
  },
};

const MODEL_SUMMARY: Json = {
  type: 'object',
  required: ['name', 'active_version', 'versions', 'ready'],
  properties: {
    name: { type: 'string' },
    active_version: { type: 'string' },
    versions: { ...strings, description: 'Every version the gateway knows, in any state.' },
    ready: { type: 'boolean', description: 'The described version is loaded and warmed.' },
  },
};

const MODEL_DESCRIPTION: Json = {
  allOf: [
    ref('ModelSummary'),
    {
      type: 'object',
      required: ['version', 'features', 'risk_thresholds', 'output', 'id_fields', 'answer', 'fixed_features', 'limits'],
      properties: {
        version: { type: 'string', description: 'The version described.' },
        features: { type: 'array', items: ref('Feature') },
        risk_thresholds: {
          type: 'array',
          items: {
            type: 'object',
            required: ['category', 'max'],
            properties: { category: { type: 'string' }, max: { type: 'number' } },
          },
        },
        output: { type: 'object', nullable: true, description: "The card's output section: which tensor answers." },
        id_fields: { ...strings, description: 'Record fields taken as its id, echoed and never scored.' },
        answer: {
          type: 'object',
          required: ['id_field', 'probability_field', 'risk_field'],
          properties: {
            id_field: { type: 'string' },
            probability_field: { type: 'string' },
            risk_field: { type: 'string' },
          },
        },
        fixed_features: { ...strings, description: 'Features a business cannot change for a customer.' },
        limits: {
          type: 'object',
          required: ['max_instances', 'max_body_bytes'],
          properties: { max_instances: { type: 'integer' }, max_body_bytes: { type: 'integer' } },
        },
      },
    },
  ],
};

const LIVE: Json = {
  type: 'object',
  required: ['interval_ms', 'points'],
  properties: {
    interval_ms: { type: 'integer' },
    points: {
      type: 'array',
      items: {
        type: 'object',
        required: [
          't',
          'requests_per_second',
          'p50_ms',
          'p99_ms',
          'client_errors_per_second',
          'server_errors_per_second',
          'cache_hit_ratio',
          'batch_rows_mean',
        ],
        properties: {
          t: { type: 'integer', description: 'End of the second, milliseconds since the epoch.' },
          requests_per_second: { type: 'number' },
          p50_ms: { ...nullableNumber, description: 'null in a second without requests.' },
          p99_ms: nullableNumber,
          client_errors_per_second: { type: 'number' },
          server_errors_per_second: { type: 'number' },
          cache_hit_ratio: { ...nullableNumber, description: 'null in a second without cache lookups.' },
          batch_rows_mean: { ...nullableNumber, description: 'null in a second without native runs.' },
        },
      },
    },
  },
};

const READINESS: Json = {
  type: 'object',
  required: ['status', 'models'],
  properties: {
    status: { type: 'string', enum: ['ready', 'loading', 'draining'] },
    models: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'version', 'state', 'active', 'ready'],
        properties: {
          name: { type: 'string' },
          version: { type: 'string' },
          state: { type: 'string', enum: ['loading', 'ready', 'failed', 'draining'] },
          active: { type: 'boolean' },
          ready: { type: 'boolean' },
          reason: { type: 'string', enum: [...GATE_REASONS] },
        },
      },
    },
  },
};

const OIP_TENSOR: Json = {
  type: 'object',
  required: ['name', 'shape', 'datatype'],
  properties: {
    name: { type: 'string' },
    shape: { type: 'array', items: { type: 'integer' } },
    datatype: { type: 'string', enum: OIP_DATATYPES },
    parameters: { type: 'object', properties: { binary_data_size: { type: 'integer', minimum: 0 } } },
    data: { type: 'array', items: {} },
  },
};

const OIP_SIGNATURE_TENSOR: Json = {
  type: 'object',
  required: ['name', 'datatype', 'shape'],
  properties: {
    name: { type: 'string' },
    datatype: { type: 'string', enum: OIP_DATATYPES },
    shape: { type: 'array', items: { type: 'integer' }, description: '-1 for a dimension of any size.' },
  },
};

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
const DRIFT: Json = {
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

/** The component schemas the public endpoints answer with; `inputNames` and `outputNames`: of every model. */
export function publicSchemas(inputNames: readonly string[], outputNames: readonly string[]): Json {
  return {
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
    Feature: FEATURE,
    ModelSummary: MODEL_SUMMARY,
    ModelList: {
      type: 'object',
      required: ['models'],
      properties: { models: { type: 'array', items: ref('ModelSummary') } },
    },
    ModelDescription: MODEL_DESCRIPTION,
    ModelCard: {
      type: 'object',
      description: "The version's model.json as it is on disk: metrics, thresholds, training data, reference.",
    },
    Live: LIVE,
    Drift: DRIFT,
    Readiness: READINESS,
    OipServerMetadata: {
      type: 'object',
      required: ['name', 'version', 'extensions'],
      properties: { name: { type: 'string' }, version: { type: 'string' }, extensions: strings },
    },
    OipModelMetadata: {
      type: 'object',
      required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
      properties: {
        name: { type: 'string' },
        versions: strings,
        platform: { type: 'string' },
        inputs: { type: 'array', items: ref('OipSignatureTensor') },
        outputs: { type: 'array', items: ref('OipSignatureTensor') },
      },
    },
    OipSignatureTensor: OIP_SIGNATURE_TENSOR,
    OipModelReady: {
      type: 'object',
      required: ['name', 'ready'],
      properties: {
        name: { type: 'string' },
        version: { type: 'string', description: 'Absent while models are still loading.' },
        ready: { type: 'boolean' },
      },
    },
    OipTensor: OIP_TENSOR,
    OipInferRequest: {
      type: 'object',
      required: ['inputs'],
      properties: {
        id: { type: 'string' },
        parameters: {
          type: 'object',
          properties: {
            binary_data_output: { type: 'boolean' },
            timeout: {
              type: 'integer',
              minimum: 0,
              maximum: MAX_TIMEOUT_MS * 1000,
              description:
                'The deadline in microseconds, as Triton reads it (0: none); the smaller of it and x-request-timeout-ms wins.',
            },
          },
        },
        inputs: {
          type: 'array',
          minItems: 1,
          description:
            'One tensor per input of the model (GET /v2/models/{name} lists them), each once, every one of the same batch size.',
          items: {
            allOf: [ref('OipTensor'), { type: 'object', properties: { name: { type: 'string', enum: inputNames } } }],
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
      required: ['model_name', 'model_version', 'outputs'],
      properties: {
        model_name: { type: 'string' },
        model_version: { type: 'string' },
        id: { type: 'string' },
        outputs: { type: 'array', items: ref('OipTensor') },
      },
    },
  };
}
