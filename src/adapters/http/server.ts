import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { ChannelDirectory } from '../../app/channel-directory.js';
import { authenticate } from '../../app/log-in.js';
import { PaymentBatcher } from '../../app/payment-batcher.js';
import { AppError } from '../../app/errors.js';
import type { Clock, FieldCipher, Passwords, TokenGenerator } from '../../app/ports.js';
import type { Principal } from '../../app/principal.js';
import type { DB } from '../../db/schema.js';
import { errorBody, handleError } from './error-mapper.js';
import { authRoutes } from './routes/auth-routes.js';
import { RateLimiter } from './rate-limiter.js';
import { billingRoutes } from './routes/billing-routes.js';
import { cashRoutes } from './routes/cash-routes.js';
import { ledgerRoutes } from './routes/ledger-routes.js';
import { channelAdminRoutes } from './routes/channel-admin-routes.js';
import { CHANNEL_BODY_LIMIT, channelRoutes } from './routes/channel-routes.js';
import { demoRoutes } from './routes/demo-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { registryRoutes } from './routes/registry-routes.js';
import { staffRoutes } from './routes/staff-routes.js';

export interface ServerDeps {
  readonly db: Kysely<DB>;
  readonly databaseKind: string;
  readonly clock: Clock;
  readonly tokens: TokenGenerator;
  readonly passwords: Passwords;
  readonly sessionHours: number;
  readonly logLevel: string;
  readonly version: string;
  /** Font for Chinese PDF documents; system fonts are searched when unset. */
  readonly pdfFontPath?: string | undefined;
  /** The utility's time zone for times printed on documents (default Asia/Shanghai). */
  readonly timeZone?: string | undefined;
  /** Seals and opens channel secrets and bank account numbers. */
  readonly cipher: FieldCipher;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes open without a staff session (health, login, docs). */
    public?: boolean;
  }
}

const WEB_DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Builds the HTTP server: staff API under /api/v1, OpenAPI at /openapi.json, docs at /docs, web UI at /. */
export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel === 'silent' ? false : { level: deps.logLevel },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    bodyLimit: CHANNEL_BODY_LIMIT,
    // Fastify's own answers (a path parameter too long: 414; a malformed URL: 400) in the API's
    // error shape, as every other error.
    frameworkErrors: (error, request, reply: FastifyReply) => {
      const tooLong = error.statusCode === 414;
      reply
        .status(tooLong ? 414 : 400)
        .send(
          isChannelPath(request.url)
            ? errorBody(tooLong ? 'URI_TOO_LONG' : 'INVALID_REQUEST', error.message)
            : errorBody(tooLong ? 'uri_too_long' : 'validation_failed', error.message),
        );
    },
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    const what = `no endpoint ${request.method} ${request.url.split('?')[0]}`;
    reply
      .status(404)
      .send(isChannelPath(request.url) ? errorBody('NOT_FOUND', what) : errorBody('not_found', what));
  });
  app.decorateRequest('principal', null);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'GridCollect API',
        description: '电费回收系统 API: staff endpoints need a bearer token from POST /api/v1/auth/login.',
        version: deps.version,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  // Every /api request is authenticated unless its route says it is public.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    if (!request.url.startsWith('/api/') || request.routeOptions.config?.public) return;
    const header = request.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token)
      throw new AppError('unauthenticated', 'missing bearer token; log in at POST /api/v1/auth/login');
    request.principal = await authenticate(deps, token);
  });

  await app.register(healthRoutes(deps));
  await app.register(authRoutes(deps), { prefix: '/api/v1' });
  await app.register(demoRoutes(deps), { prefix: '/api/v1' });
  await app.register(staffRoutes(deps), { prefix: '/api/v1' });
  await app.register(registryRoutes(deps), { prefix: '/api/v1' });
  // On PostgreSQL concurrent payments (counters and channels alike) share commits; the embedded
  // database runs one statement at a time, where the single path is faster.
  const batcher = deps.databaseKind === 'postgres' ? new PaymentBatcher(deps.db) : undefined;
  await app.register(billingRoutes({ ...deps, ...(batcher ? { batcher } : {}) }), { prefix: '/api/v1' });
  await app.register(cashRoutes(deps), { prefix: '/api/v1' });
  await app.register(ledgerRoutes(deps), { prefix: '/api/v1' });
  const channels = new ChannelDirectory(deps.db, deps.cipher.decrypt, deps.clock);
  await app.register(channelAdminRoutes({ ...deps, channels }), { prefix: '/api/v1' });
  await app.register(
    channelRoutes({
      db: deps.db,
      clock: deps.clock,
      channels,
      rateLimiter: new RateLimiter(),
      ...(batcher ? { batcher } : {}),
    }),
    {
      prefix: '/channel/v1',
    },
  );
  app.get('/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());

  if (existsSync(WEB_DIST)) {
    await app.register(fastifyStatic, { root: WEB_DIST, prefix: '/', wildcard: false });
  } else {
    app.get('/', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><meta charset="utf-8"><p>Web UI not built: run <code>npm run build</code>.</p>',
        ),
    );
  }
  return app;
}

function isChannelPath(url: string): boolean {
  return url === '/channel/v1' || url.startsWith('/channel/v1/');
}

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'not logged in');
  return request.principal;
}
