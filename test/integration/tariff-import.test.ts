import { afterAll, beforeAll, expect, it } from 'vitest';
import { AppError } from '../../src/app/errors.js';
import { importTariffs } from '../../src/app/import-tariffs.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { listTariffs } from '../../src/app/queries/list-tariffs.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';

const version = (effectiveFrom: string, flat: string, effectiveTo: string | null = null) => ({
  effectiveFrom,
  effectiveTo,
  jurisdiction: '示范省',
  source: 'test price notice',
  definition: { energy: { flat }, funds: '0.0290' },
});
const document = (...versions: unknown[]) => ({
  tariffs: [
    {
      code: 'AGRI-X',
      name: '农业生产用电 X',
      nameEn: 'Agriculture X',
      category: 'agriculture',
      structure: 'flat',
      versions,
    },
  ],
});
const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));

describeEachDatabase('tariff import', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(() => database.close());

  it('stores versions, closes the open one when a later version comes, and is idempotent', async () => {
    expect(
      await importTariffs(database.db, CLI_PRINCIPAL, document(version('2025-01-01', '0.4850'))),
    ).toMatchObject({ versionsAdded: 1 });
    expect(
      await importTariffs(database.db, CLI_PRINCIPAL, document(version('2026-07-01', '0.4750'))),
    ).toMatchObject({ versionsAdded: 1 });
    expect(
      await importTariffs(database.db, CLI_PRINCIPAL, document(version('2026-07-01', '0.4750'))),
    ).toMatchObject({ versionsAdded: 0, versionsUnchanged: 1 });
    const [tariff] = await listTariffs(database.db, CLI_PRINCIPAL);
    expect(tariff!.versions.map((v) => [v.effectiveFrom, v.effectiveTo])).toEqual([
      ['2025-01-01', '2026-07-01'],
      ['2026-07-01', null],
    ]);
  });

  it('refuses overlaps, changed definitions and invalid prices, naming the field', async () => {
    expect(
      codeOf(
        await importTariffs(
          database.db,
          CLI_PRINCIPAL,
          document(version('2025-03-01', '0.5', '2025-06-01')),
        ).catch((e) => e),
      ),
    ).toBe('tariff_overlap');
    expect(
      codeOf(
        await importTariffs(database.db, CLI_PRINCIPAL, document(version('2026-07-01', '0.9999'))).catch(
          (e) => e,
        ),
      ),
    ).toBe('tariff_version_conflict');
    const invalid = await importTariffs(
      database.db,
      CLI_PRINCIPAL,
      document(version('2027-01-01', '0.123456')),
    ).catch((e) => e);
    expect(codeOf(invalid)).toBe('validation_failed');
    expect((invalid as Error).message).toMatch(/^tariffs\[0\]\.versions\[0\]\.definition\.energy\.flat:/);
    const inFile = await importTariffs(
      database.db,
      CLI_PRINCIPAL,
      document(version('2028-01-01', '0.5'), version('2028-06-01', '0.6')),
    ).catch((e) => e);
    expect((inFile as Error).message).toMatch(/versions\[1\].*overlaps/);
    const [tariff] = await listTariffs(database.db, CLI_PRINCIPAL);
    expect(tariff!.versions).toHaveLength(2);
  });
});
