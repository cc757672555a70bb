// The one error response of the OpenAPI document, shared by its parts.

// Errors come as MessagePack when the client's Accept (or, for predictions, its request body) is
// MessagePack, else as JSON.
const errorSchema = { $ref: '#/components/schemas/Error' };

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema }, 'application/msgpack': { schema: errorSchema } },
});
