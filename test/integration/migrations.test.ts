import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { describeSchema, renderSchema } from '../../src/db/describe-schema.js';
import { migrateToLatest, migrationStatus } from '../../src/db/migrate.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';

const SNAPSHOT = fileURLToPath(new URL('../../src/db/schema.snapshot.txt', import.meta.url));

describeEachDatabase('migrations', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(() => database.close());

  it('gives the committed schema snapshot when an empty database is migrated', async () => {
    const actual = renderSchema(await describeSchema(database.db));
    const committed = await readFile(SNAPSHOT, 'utf8');
    // On a difference, regenerate with: npx gridcollect db schema > src/db/schema.snapshot.txt
    expect(actual).toBe(committed);
  });

  it('reports every migration applied and applies nothing on a second run', async () => {
    const statuses = await migrationStatus(database.db);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((status) => status.state === 'applied')).toBe(true);
    const again = await migrateToLatest(database.db);
    expect(again).toEqual({ applied: [], error: null });
  });
});
