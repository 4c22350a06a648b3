import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { ServerDeps } from '../server.js';

export function healthRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
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
            200: Type.Partial(
              Type.Object({ status: Type.String(), database: Type.String(), version: Type.String() }),
            ),
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
