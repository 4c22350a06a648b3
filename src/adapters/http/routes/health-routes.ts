import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import type { ServerDeps } from '../server.js';

export function healthRoutes(deps: ServerDeps): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/health',
      {
        config: { public: true },
        schema: {
          summary: 'Liveness and database reachability',
          tags: ['system'],
          security: [],
          response: {
            200: {
              type: 'object',
              properties: {
                status: { type: 'string' },
                database: { type: 'string' },
                version: { type: 'string' },
              },
            },
          },
        },
      },
      async () => {
        await sql`select 1`.execute(deps.db);
        return { status: 'ok', database: deps.databaseKind, version: deps.version };
      },
    );
  };
}
