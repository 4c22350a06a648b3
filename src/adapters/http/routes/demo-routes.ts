import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { demoProgress } from '../../../app/queries/demo-progress.js';
import { Nullable } from '../schemas.js';
import type { ServerDeps } from '../server.js';

/** The demo county's progress while `npm start` fills in its months behind the running server. */
export function demoRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/demo/progress',
      {
        config: { public: true },
        schema: {
          summary: "The demo county's history: months billed, released and collected so far",
          tags: ['system'],
          security: [],
          response: {
            200: Type.Object({
              demo: Type.Boolean(),
              monthsTotal: Type.Integer(),
              monthsReady: Type.Integer(),
              latestReady: Nullable(Type.String()),
              complete: Type.Boolean(),
            }),
          },
        },
      },
      async () => demoProgress(deps.db),
    );
  };
}
