import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import { systemClock } from '../adapters/clock/system-clock.js';
import { createFieldCipher } from '../adapters/crypto/field-cipher.js';
import { buildServer } from '../adapters/http/server.js';
import type { DB } from '../db/schema.js';
import { VERSION } from './app-context.js';

/**
 * The served OpenAPI document (/openapi.json), built without a database or a listening server:
 * the routes are registered on a Kysely that never connects, and nothing is asked of it.
 * `npm run api:types` turns it into web/src/api-types.ts.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const db = new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (kysely) => new PostgresIntrospector(kysely),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
  const app = await buildServer({
    db,
    databaseKind: 'none',
    clock: systemClock('Asia/Shanghai'),
    tokens: { newToken: () => '' },
    passwords: { verify: async () => false, hash: async () => '' },
    sessionHours: 1,
    logLevel: 'silent',
    version: VERSION,
    cipher: createFieldCipher(Buffer.alloc(32)),
  });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}
