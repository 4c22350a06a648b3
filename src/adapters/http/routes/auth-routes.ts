import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { logIn, logOut } from '../../../app/log-in.js';
import type { Principal } from '../../../app/principal.js';
import { errorResponses, errorSchema, principalSchema } from '../schemas.js';
import { requirePrincipal, type ServerDeps } from '../server.js';

/** The principal as the API shows it (the schema's fields only). */
function principalView(principal: Principal) {
  return { ...principal, roles: [...principal.roles] };
}

export function authRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/auth/login',
      {
        config: { public: true },
        schema: {
          summary: 'Staff login: returns a bearer token',
          tags: ['auth'],
          security: [],
          body: Type.Object(
            {
              login: Type.String({ minLength: 1, maxLength: 64 }),
              password: Type.String({ minLength: 1, maxLength: 256 }),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Partial(
              Type.Object({
                token: Type.String(),
                expiresAt: Type.String({ format: 'date-time' }),
                staff: principalSchema,
              }),
            ),
            ...errorResponses,
            429: errorSchema,
          },
        },
      },
      async (request) => {
        const result = await logIn(deps, {
          login: request.body.login,
          password: request.body.password,
          requestIp: request.ip,
          channel: 'api',
        });
        return {
          token: result.token,
          expiresAt: result.expiresAt.toISOString(),
          staff: principalView(result.principal),
        };
      },
    );

    app.post(
      '/auth/logout',
      {
        schema: {
          summary: 'Ends the current session',
          tags: ['auth'],
          response: { 204: Type.Null(), ...errorResponses },
        },
      },
      async (request, reply) => {
        const token = request.headers.authorization?.slice(7).trim() ?? '';
        await logOut(deps, token, requirePrincipal(request));
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/me',
      {
        schema: {
          summary: 'The logged-in staff member and scope',
          tags: ['auth'],
          response: { 200: principalSchema, ...errorResponses },
        },
      },
      async (request) => principalView(requirePrincipal(request)),
    );
  };
}
