// The admin part of the OpenAPI document: cache flushes and the model lifecycle. Listed only when
// an admin token is configured; without one these routes only ever answer 403 ADMIN_DISABLED.
import { errorResponse, ref } from './openapi-responses.js';
import { GATE_REASONS } from './registry/gate.js';

type Json = Record<string, unknown>;

const VERSION = { type: 'string', pattern: '^[1-9][0-9]*$' };
// A version given as a JSON number: a whole number JavaScript holds exactly.
const VERSION_NUMBER = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER };

export const ADMIN_SCHEMAS: Json = {
  Routing: {
    type: 'object',
    required: ['active', 'previous', 'canary', 'shadow'],
    properties: {
      active: VERSION,
      previous: { ...VERSION, nullable: true },
      canary: {
        type: 'object',
        nullable: true,
        required: ['version', 'weight'],
        properties: { version: VERSION, weight: { type: 'number', minimum: 0, maximum: 1 } },
      },
      shadow: { ...VERSION, nullable: true },
    },
  },
  RoutingChange: {
    type: 'object',
    additionalProperties: false,
    minProperties: 1,
    description:
      'Any of active, canary, shadow; null clears canary or shadow. A new active version makes the old one previous.',
    properties: {
      active: { oneOf: [VERSION, VERSION_NUMBER] },
      canary: {
        type: 'object',
        nullable: true,
        additionalProperties: false,
        required: ['version', 'weight'],
        properties: {
          version: { oneOf: [VERSION, VERSION_NUMBER] },
          weight: { type: 'number', minimum: 0, maximum: 1 },
        },
      },
      shadow: { oneOf: [VERSION, VERSION_NUMBER], nullable: true },
    },
  },
  ModelState: {
    type: 'object',
    required: ['name', 'routing', 'versions'],
    properties: {
      name: { type: 'string' },
      routing: ref('Routing'),
      versions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['version', 'state'],
          properties: {
            version: VERSION,
            state: { type: 'string', enum: ['loading', 'ready', 'failed', 'draining'] },
            reason: { type: 'string', enum: [...GATE_REASONS] },
            message: { type: 'string' },
            parity: {
              type: 'object',
              nullable: true,
              properties: { rows: { type: 'integer' }, tolerance: { type: 'number' }, maxAbsDiff: { type: 'number' } },
            },
          },
        },
      },
    },
  },
};

export function adminPaths(modelParam: Json, versionParam: Json): Json {
  const guarded = {
    security: [{ adminToken: [] }],
  };
  const denied = {
    401: errorResponse('Missing or wrong admin token'),
    403: errorResponse('Admin routes are off (no admin.token configured)'),
  };
  const model = {
    description: 'The model afterwards',
    content: { 'application/json': { schema: ref('ModelState') } },
  };
  const flushOp = (params: Json[]) => ({
    delete: {
      tags: ['admin'],
      summary: "Flush a model's cached predictions: this gateway's L1 and the shared L2 (Redis).",
      parameters: params,
      ...guarded,
      responses: {
        200: { description: 'Flushed: {"model", "version", "l1_deleted", "l2_deleted"} (l2_deleted null without L2)' },
        ...denied,
        404: errorResponse('Unknown model or version'),
        503: errorResponse('L1 flushed, Redis not reachable (CACHE_UNAVAILABLE)'),
      },
    },
  });
  return {
    '/admin/v1/models/{name}/cache': flushOp([modelParam]),
    '/admin/v1/models/{name}/versions/{version}/cache': flushOp([modelParam, versionParam]),
    '/admin/v1/models': {
      get: {
        tags: ['admin'],
        summary: 'Every model: routing and the state of each version',
        ...guarded,
        responses: {
          200: {
            description: 'Models',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { models: { type: 'array', items: ref('ModelState') } },
                },
              },
            },
          },
          ...denied,
        },
      },
    },
    '/admin/v1/models/{name}': {
      get: {
        tags: ['admin'],
        summary: 'A model: routing and the state of each version (failed ones with the gate reason)',
        parameters: [modelParam],
        ...guarded,
        responses: { 200: model, ...denied, 404: errorResponse('Unknown model') },
      },
    },
    '/admin/v1/models/{name}/versions/{version}/load': {
      post: {
        tags: ['admin'],
        summary: 'Load a version from its folder and pass it through the gate; answers once it is ready',
        parameters: [modelParam, versionParam],
        ...guarded,
        responses: {
          200: model,
          ...denied,
          404: errorResponse('Unknown model, or no such version folder with model.onnx'),
          409: errorResponse('The version is draining (VERSION_BUSY)'),
          422: errorResponse('The version failed its gate (MODEL_REJECTED, details.reason)'),
        },
      },
    },
    '/admin/v1/models/{name}/versions/{version}': {
      delete: {
        tags: ['admin'],
        summary: 'Unload a version: it stops taking rows, answers those it holds, then frees its session',
        parameters: [modelParam, versionParam],
        ...guarded,
        responses: {
          200: model,
          ...denied,
          404: errorResponse('Unknown model or version'),
          409: errorResponse('The version is active or canary (VERSION_IN_USE), or loading (VERSION_BUSY)'),
        },
      },
    },
    '/admin/v1/models/{name}/routing': {
      put: {
        tags: ['admin'],
        summary: 'Change which versions answer; written to serving.json before it applies',
        parameters: [modelParam],
        ...guarded,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: ref('RoutingChange') } },
        },
        responses: {
          200: model,
          400: errorResponse('Malformed body or a field that is not a version (details.field)'),
          ...denied,
          404: errorResponse('Unknown model or version'),
          408: errorResponse('The body did not arrive within bodyTimeoutMs (REQUEST_TIMEOUT)'),
          409: errorResponse('A named version is not loaded and ready (VERSION_NOT_LOADED)'),
          415: errorResponse('Not JSON or MessagePack'),
          422: errorResponse('The routing breaks a rule (INVALID_ROUTING)'),
          500: errorResponse('serving.json could not be written; nothing changed (ROUTING_NOT_SAVED)'),
        },
      },
    },
    '/admin/v1/models/{name}/rollback': {
      post: {
        tags: ['admin'],
        summary: 'Make the previous active version active again',
        parameters: [modelParam],
        ...guarded,
        responses: {
          200: model,
          ...denied,
          404: errorResponse('Unknown model'),
          409: errorResponse('No previous version, or it is not loaded (NO_PREVIOUS_VERSION)'),
          500: errorResponse('serving.json could not be written; nothing changed (ROUTING_NOT_SAVED)'),
        },
      },
    },
  };
}
