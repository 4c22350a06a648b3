import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { importReads } from '../../src/app/import-reads.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';

describeEachDatabase('meter read import', (kind) => {
  let database: TestDatabase;
  let meter: { meter_no: string; registers: string[] };
  const header = ['meter_no', 'period', 'read_on', 'total', 'reader'];
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    meter = await database.db
      .selectFrom('meter')
      .select(['meter_no', 'registers'])
      .where('removed_on', 'is', null)
      .where(sql<boolean>`registers = array['total']::text[]`)
      .orderBy('customer_id')
      .executeTakeFirstOrThrow();
  });
  afterAll(() => database.close());

  const count = async () =>
    (
      await database.db
        .selectFrom('meter_read')
        .select('meter_read_id')
        .where('period', '=', '2026-11')
        .execute()
    ).length;

  it('imports a file once: the same file again adds nothing', async () => {
    const records = [header, [meter.meter_no, '2026-11', '2026-11-25', '123456.70', 's01.e001']];
    const first = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records,
      fileName: 'round.csv',
    });
    expect(first).toEqual({ rows: 1, imported: 1, alreadyImported: 0, corrections: [] });
    const again = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records,
      fileName: 'round.csv',
    });
    expect(again).toEqual({ rows: 1, imported: 0, alreadyImported: 1, corrections: [] });
    expect(await count()).toBe(1);
    const read = await database.db
      .selectFrom('meter_read')
      .selectAll()
      .where('period', '=', '2026-11')
      .executeTakeFirstOrThrow();
    expect(read).toMatchObject({ total: '123456.70', source: 'handheld', kind: 'actual' });
  });

  it('refuses the whole file when one row is wrong, naming line and field', async () => {
    const records = [
      header,
      [meter.meter_no, '2026-11', '2026-11-26', '123460.00', ''],
      ['999999999999', '2026-11', '2026-11-26', '5', ''],
      [meter.meter_no.replace(/.$/, '9'), '2026-11', '2027-03-01', '5', 'nobody'],
    ];
    const error = await importReads(database.db, CLI_PRINCIPAL, {
      format: 'manual',
      records,
      fileName: 'bad.csv',
    }).catch((caught) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('validation_failed');
    expect((error as AppError).message).toMatch(/line 3, meter_no/);
    expect(await count()).toBe(1);
  });

  it('refuses a register the meter does not have', async () => {
    const records = [
      ['meter_no', 'date', 'register', 'value'],
      [meter.meter_no, '2026-11-30', 'peak', '10'],
    ];
    await expect(
      importReads(database.db, CLI_PRINCIPAL, { format: 'ami', records, fileName: 'ami.csv' }),
    ).rejects.toThrow(/line 2, peak/);
  });
});
