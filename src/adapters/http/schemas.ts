/** JSON schemas shared by routes (validated by Fastify, published in the OpenAPI document). */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

export const staffRefSchema = {
  type: ['object', 'null'],
  properties: {
    staffId: { type: 'integer' },
    name: { type: 'string' },
    since: { type: 'string', format: 'date' },
  },
} as const;

export const principalSchema = {
  type: 'object',
  properties: {
    staffId: { type: ['integer', 'null'] },
    login: { type: 'string' },
    name: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    orgUnitId: { type: 'integer' },
    scopePath: { type: 'string' },
  },
} as const;

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
} as const;
