import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { CopyRows, copyRows } from '../../src/db/raw-commands.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';

describe('PGlite dialect', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
    await sql`create table counter (id int primary key, value int not null)`.execute(database.db);
    await sql`insert into counter values (1, 0)`.execute(database.db);
  });
  afterAll(() => database.close());

  // The exact case that broke kysely-pglite: two concurrent transactions on one PGlite, one of
  // them rolled back. Its update must not be committed by the other.
  it('keeps a rolled-back update out when another transaction commits concurrently', async () => {
    const db = database.db as unknown as import('kysely').Kysely<{ counter: { id: number; value: number } }>;
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    const failing = db
      .transaction()
      .execute(async (trx) => {
        await trx.updateTable('counter').set({ value: 100 }).where('id', '=', 1).execute();
        await firstMayFinish;
        throw new Error('roll back');
      })
      .catch((error: Error) => error.message);
    const committing = db.transaction().execute(async (trx) => {
      await trx
        .updateTable('counter')
        .set((eb) => ({ value: eb('value', '+', 1) }))
        .where('id', '=', 1)
        .execute();
    });
    setTimeout(releaseFirst, 20);
    expect(await failing).toBe('roll back');
    await committing;
    const row = await db.selectFrom('counter').select('value').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(row.value).toBe(1);
  });

  it('runs many concurrent transactions one at a time', async () => {
    const db = database.db as unknown as import('kysely').Kysely<{ counter: { id: number; value: number } }>;
    await Promise.all(
      Array.from({ length: 25 }, () =>
        db.transaction().execute(async (trx) => {
          const { value } = await trx
            .selectFrom('counter')
            .select('value')
            .where('id', '=', 1)
            .executeTakeFirstOrThrow();
          await trx
            .updateTable('counter')
            .set({ value: value + 1 })
            .where('id', '=', 1)
            .execute();
        }),
      ),
    );
    const row = await db.selectFrom('counter').select('value').where('id', '=', 1).executeTakeFirstOrThrow();
    expect(row.value).toBe(26);
  });
});

describeEachDatabase('both backends', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(() => database.close());

  it('hand the code int8 as number, numeric as exact string and date as text', async () => {
    const row = await sql<{ big: unknown; exact: unknown; day: unknown; at: unknown }>`
      select 9007199254740991::int8 as big, 0.10000::numeric(12,5) as exact,
             date '2026-11-27' as day, timestamptz '2026-11-27 10:00:00+08' as at`.execute(database.db);
    expect(row.rows[0]).toEqual({
      big: 9007199254740991,
      exact: '0.10000',
      day: '2026-11-27',
      at: new Date('2026-11-27T02:00:00Z'),
    });
  });

  it('refuses an int8 beyond the safe integer range instead of rounding it', async () => {
    await expect(sql`select 9007199254740993::int8 as big`.execute(database.db)).rejects.toThrow(
      /safe integer/,
    );
  });

  it('bulk-loads rows with COPY inside a transaction, and rolls it back with the transaction', async () => {
    await sql`create table copy_target (id int primary key, name text, amount numeric(12,2), flag boolean)`.execute(
      database.db,
    );
    await database.db.transaction().execute(async (trx) => {
      await copyRows(
        trx,
        'copy_target',
        ['id', 'name', 'amount', 'flag'],
        [
          [1, '王, 五', '1.50', true],
          [2, 'say "hi"\tand\\more\nlines\r', null, false],
          [3, '', '0', null],
        ],
      );
    });
    await expect(
      database.db.transaction().execute(async (trx) => {
        await copyRows(trx, 'copy_target', ['id', 'name', 'amount', 'flag'], [[4, 'x', '1', true]]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await sql<{ id: number; name: string | null; amount: string | null; flag: boolean | null }>`
      select id, name, amount, flag from copy_target order by id`.execute(database.db);
    expect(rows.rows).toEqual([
      { id: 1, name: '王, 五', amount: '1.50', flag: true },
      { id: 2, name: 'say "hi"\tand\\more\nlines\r', amount: null, flag: false },
      { id: 3, name: '', amount: '0.00', flag: null },
    ]);
  });

  it('round-trips any text through COPY exactly', async () => {
    await sql`create table copy_text (id int primary key, value text)`.execute(database.db);
    let nextId = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { nil: null }), {
          minLength: 1,
          maxLength: 20,
        }),
        async (values) => {
          const clean = values.map((value) => (value === null ? null : value.replaceAll('\u0000', '')));
          const rows = clean.map((value) => [++nextId, value]);
          await database.db.transaction().execute((trx) => copyRows(trx, 'copy_text', ['id', 'value'], rows));
          const back = await sql<{ id: number; value: string | null }>`
          select id, value from copy_text where id > ${nextId - rows.length} order by id`.execute(
            database.db,
          );
          expect(back.rows.map((row) => row.value)).toEqual(clean);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('writes rows gathered in chunks (CopyRows) exactly once each, in order', async () => {
    await sql`create table copy_chunks (id int primary key, value text)`.execute(database.db);
    let nextId = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.option(fc.string({ maxLength: 12 }), { nil: null }), { maxLength: 25 }),
        async (chunkRows, values) => {
          const from = nextId;
          const gathered = new CopyRows('copy_chunks', ['id', 'value'], chunkRows);
          for (const value of values) gathered.add([++nextId, value]);
          expect(gathered.count).toBe(values.length);
          await database.db.transaction().execute((trx) => gathered.copy(trx));
          // Emptied by the copy: copying again writes nothing twice.
          expect(gathered.count).toBe(0);
          await database.db.transaction().execute((trx) => gathered.copy(trx));
          const back = await sql<{ id: number; value: string | null }>`
            select id, value from copy_chunks where id > ${from} order by id`.execute(database.db);
          expect(back.rows).toEqual(values.map((value, k) => ({ id: from + k + 1, value })));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('refuses updates and deletes on append-only financial tables', async () => {
    await expect(sql`delete from posting`.execute(database.db)).rejects.toThrow(/append-only/);
    await expect(sql`update audit_log set action = 'x'`.execute(database.db)).rejects.toThrow(/append-only/);
  });
});
