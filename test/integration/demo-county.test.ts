import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { nationalIdField } from '../../src/app/sealed-fields.js';
import { createDemoCounty, demoRunKey, workOnDemoRun } from '../../src/jobs/demo/create-demo-county.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo, demoDigest, demoOptions, testCipher } from '../support/demo.js';

describeEachDatabase('demo county', (kind) => {
  let clean: TestDatabase;
  let cleanDigest: Record<string, string>;
  beforeAll(async () => {
    clean = await createTestDatabase(kind);
    await createSmallDemo(clean.db);
    cleanDigest = await demoDigest(clean.db);
  });
  afterAll(() => clean.close());

  it('creates a county with stations, areas, staff, customers, meters and a year of reads', async () => {
    const counts = await sql<Record<string, number>>`
      select (select count(*)::int from org_unit where kind = 'station') as stations,
             (select count(*)::int from area where kind = 'transformer_area') as areas,
             (select count(*)::int from staff) as staff,
             (select count(*)::int from customer) as customers,
             (select count(*)::int from meter) as meters,
             (select count(distinct period)::int from meter_read) as periods,
             (select count(*)::int from tariff_version) as tariff_versions`.execute(clean.db);
    const row = counts.rows[0]!;
    expect(row.stations).toBeGreaterThanOrEqual(6);
    expect(row.areas).toBeGreaterThan(5);
    expect(row.customers).toBe(900);
    expect(row.meters).toBeGreaterThanOrEqual(900);
    // 13 billing months plus the opening read of the month before.
    expect(row.periods).toBe(14);
    expect(row.tariff_versions).toBeGreaterThan(5);
  });

  it('stores national IDs encrypted and masked, never in clear', async () => {
    const row = await clean.db
      .selectFrom('customer')
      .select(['customer_id', 'national_id_encrypted', 'national_id_masked'])
      .where('category', '=', 'residential')
      .where('national_id_encrypted', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(row.national_id_encrypted).toMatch(/^v2:[0-9a-f]{16}:/);
    const plain = testCipher.decrypt(row.national_id_encrypted!, nationalIdField(row.customer_id));
    expect(plain).toMatch(/^\d{17}[\dX]$/);
    expect(row.national_id_masked).toBe(`${plain.slice(0, 4)}**********${plain.slice(-4)}`);
  });

  it('is deterministic: the same seed gives the same county', async () => {
    const again = await createTestDatabase(kind);
    try {
      await createSmallDemo(again.db, { concurrency: 1, partitionSize: 350 });
      expect(await demoDigest(again.db)).toEqual(cleanDigest);
    } finally {
      await again.close();
    }
  });

  it('resumes after being killed part-way: the result equals one clean run', async () => {
    const killed = await createTestDatabase(kind);
    try {
      let partitions = 0;
      const crash = new Error('killed');
      await expect(
        createDemoCounty(killed.db, {
          ...demoOptions({ concurrency: 1 }),
          onProgress: (done) => {
            if (done > 0 && ++partitions === 2) throw crash;
          },
        }),
      ).rejects.toBe(crash);
      const done = await killed.db
        .selectFrom('job_partition')
        .select('partition_no')
        .where('status', '=', 'done')
        .execute();
      expect(done.length).toBeGreaterThan(0);
      expect(done.length).toBeLessThan(5);
      const summary = await createSmallDemo(killed.db);
      expect(summary.resumed).toBe(true);
      expect(await demoDigest(killed.db)).toEqual(cleanDigest);
    } finally {
      await killed.close();
    }
  });

  it.runIf(kind === 'postgres')(
    'lets several workers share one run without doing a partition twice',
    async () => {
      const shared = await createTestDatabase(kind);
      try {
        const stop = new Error('registry only');
        await expect(
          createDemoCounty(shared.db, {
            ...demoOptions(),
            onProgress: () => {
              throw stop;
            },
          }),
        ).rejects.toBe(stop);
        const runKey = demoRunKey(demoOptions());
        const workers = await Promise.all([shared.openAnother!(3), shared.openAnother!(3)]);
        const done = await Promise.all(
          workers.map((worker, k) =>
            workOnDemoRun(worker.db, runKey, {
              encrypt: testCipher.encrypt,
              concurrency: 2,
              worker: `w${k}`,
            }),
          ),
        );
        expect(done[0]! + done[1]!).toBe(5);
        expect(done.every((count) => count > 0)).toBe(true);
        const run = await shared.db
          .selectFrom('job_run')
          .select('status')
          .where('run_key', '=', runKey)
          .executeTakeFirstOrThrow();
        expect(run.status).toBe('done');
        expect(await demoDigest(shared.db)).toEqual(cleanDigest);
      } finally {
        await shared.close();
      }
    },
  );

  it('does nothing when run again with the same parameters, and refuses other parameters', async () => {
    const summary = await createSmallDemo(clean.db);
    expect(summary.alreadyCreated).toBe(true);
    expect(await demoDigest(clean.db)).toEqual(cleanDigest);
    await expect(createSmallDemo(clean.db, { seed: 4 })).rejects.toSatisfy(
      (error: unknown) => error instanceof AppError && error.code === 'demo_parameters_differ',
    );
  });

  it('has reads that only go down where a fault explains it', async () => {
    const unexplained = await sql<{ customer_id: number; period: string }>`
      with ordered as (
        select customer_id, meter_id, period, total,
               lag(total) over (partition by customer_id, meter_id order by read_on) as previous
        from meter_read)
      select o.customer_id, o.period from ordered o
      where o.previous is not null and o.total < o.previous
        and not exists (select 1 from demo_read_fault f
                        where f.customer_id = o.customer_id and f.fault in ('rollover', 'misread', 'estimated', 'missing'))
      limit 5`.execute(clean.db);
    expect(unexplained.rows).toEqual([]);
  });
});
