import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { readQuality } from '../../src/app/queries/read-quality.js';
import type { Period } from '../../src/domain/local-date.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

describeEachDatabase('read quality (实抄率, 差错率)', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
  });
  afterAll(() => database.close());

  it('splits every due customer into read, estimated or missing, per station and per reader', async () => {
    const period = '2026-06' as Period;
    const stations = await readQuality(database.db, CLI_PRINCIPAL, period, 'station');
    const readers = await readQuality(database.db, CLI_PRINCIPAL, period, 'reader');
    expect(stations.length).toBeGreaterThanOrEqual(6);
    const total = (rows: typeof stations, pick: (row: (typeof stations)[number]) => number) =>
      rows.reduce((sum, row) => sum + pick(row), 0);
    expect(total(readers, (row) => row.due)).toBe(total(stations, (row) => row.due));
    for (const row of [...stations, ...readers]) {
      expect(row.actual + row.estimated + row.missing).toBe(row.due);
      expect(row.actualReadRate).toBeGreaterThan(0.8);
      expect(row.actualReadRate).toBeLessThanOrEqual(1);
    }
    // The demo's estimated and missing reads show up as a rate below 100% somewhere.
    expect(stations.some((row) => row.actualReadRate < 1)).toBe(true);
    expect(readers.every((row) => row.key.startsWith('s0') || row.key.startsWith('s1'))).toBe(true);
  });
});
