import type { FastifyPluginAsync } from 'fastify';
import { demoProgress } from '../../../app/queries/demo-progress.js';
import type { ServerDeps } from '../server.js';

/** The demo county's progress while `npm start` fills in its months behind the running server. */
export function demoRoutes(deps: ServerDeps): FastifyPluginAsync {
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
            200: {
              type: 'object',
              required: ['demo', 'monthsTotal', 'monthsReady', 'latestReady', 'complete'],
              properties: {
                demo: { type: 'boolean' },
                monthsTotal: { type: 'integer' },
                monthsReady: { type: 'integer' },
                latestReady: { type: ['string', 'null'] },
                complete: { type: 'boolean' },
              },
            },
          },
        },
      },
      async () => demoProgress(deps.db),
    );
  };
}
