import type { FastifyPluginAsync } from 'fastify';
import { logIn, logOut } from '../../../app/log-in.js';
import { errorResponses, errorSchema, principalSchema } from '../schemas.js';
import { requirePrincipal, type ServerDeps } from '../server.js';

export function authRoutes(deps: ServerDeps): FastifyPluginAsync {
  return async (app) => {
    app.post<{ Body: { login: string; password: string } }>(
      '/auth/login',
      {
        config: { public: true },
        schema: {
          summary: 'Staff login: returns a bearer token',
          tags: ['auth'],
          security: [],
          body: {
            type: 'object',
            required: ['login', 'password'],
            additionalProperties: false,
            properties: {
              login: { type: 'string', minLength: 1, maxLength: 64 },
              password: { type: 'string', minLength: 1, maxLength: 256 },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                token: { type: 'string' },
                expiresAt: { type: 'string', format: 'date-time' },
                staff: principalSchema,
              },
            },
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
        return { token: result.token, expiresAt: result.expiresAt.toISOString(), staff: result.principal };
      },
    );

    app.post(
      '/auth/logout',
      {
        schema: {
          summary: 'Ends the current session',
          tags: ['auth'],
          response: { 204: { type: 'null' }, ...errorResponses },
        },
      },
      async (request, reply) => {
        const token = request.headers.authorization?.slice(7).trim() ?? '';
        await logOut(deps, token, requirePrincipal(request));
        return reply.status(204).send();
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
      async (request) => requirePrincipal(request),
    );
  };
}
