import { type Static, type TSchema, type TUnsafe, Type } from 'typebox';

/**
 * JSON schemas shared by routes, written with TypeBox: Fastify validates with them, the OpenAPI
 * document publishes them, and the TypeBox type provider derives the handlers' types from them.
 */

/**
 * A value of the schema or null, written as `type: [T, "null"]` (what OpenAPI 3.0 and the response
 * serializer understand) rather than TypeBox's `anyOf`; typed as `Static<T> | null`.
 */
export function Nullable<T extends TSchema & { readonly type: string }>(schema: T) {
  // An enum lists null too: OpenAPI 3.0 allows a nullable enum's null only when it is listed.
  const values = (schema as { readonly enum?: readonly unknown[] }).enum;
  return Type.Unsafe<Static<T> | null>({
    ...schema,
    type: [schema.type, 'null'],
    ...(values ? { enum: [...values, null] } : {}),
  });
}

export const errorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
});

export const staffRefSchema = Nullable(
  Type.Partial(
    Type.Object({
      staffId: Type.Integer(),
      name: Type.String(),
      since: Type.String({ format: 'date' }),
    }),
  ),
);

export const principalSchema = Type.Partial(
  Type.Object({
    staffId: Nullable(Type.Integer()),
    login: Type.String(),
    name: Type.String(),
    roles: Type.Array(Type.String()),
    orgUnitId: Type.Integer(),
    scopePath: Type.String(),
  }),
);

export const errorResponses = {
  400: errorSchema,
  401: errorSchema,
  403: errorSchema,
  404: errorSchema,
} as const;

/** One of the given strings, written as `type: "string", enum: [...]` and typed as their union. */
export function StringEnum<const T extends readonly string[]>(values: T, options: object = {}) {
  const schema = { ...options, type: 'string', enum: [...values] } as const;
  return Type.Unsafe<T[number]>(schema) as TUnsafe<T[number]> & { readonly type: 'string' };
}

/** A free-form JSON object (audit details, a tariff definition), typed unknown. */
export function AnyObject() {
  return Type.Unsafe<unknown>({ type: 'object', additionalProperties: true }) as TUnsafe<unknown> & {
    readonly type: 'object';
  };
}
