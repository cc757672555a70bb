// What the parts of the OpenAPI document share: references to its component schemas, the error
// response, the Retry-After header.

/** A reference to the component schema `name`. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The header refusals and not-ready answers carry. */
export const retryAfter = {
  'retry-after': { description: 'Seconds to wait before asking again.', schema: { type: 'string' } },
};

// Errors come as MessagePack when the client's Accept (or, for predictions, its request body) is
// MessagePack, else as JSON.
const errorSchema = ref('Error');

export const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorSchema }, 'application/msgpack': { schema: errorSchema } },
});
