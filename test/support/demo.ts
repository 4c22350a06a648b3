import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { createFieldCipher } from '../../src/adapters/crypto/field-cipher.js';
import type { DB } from '../../src/db/schema.js';
import type { Period } from '../../src/domain/local-date.js';
import { type CreateDemoCountyOptions, createDemoCounty } from '../../src/jobs/demo/create-demo-county.js';

/**
 * A field key drawn per test run (never a fixed one): pass it to CLI processes as
 * GRIDCOLLECT_ENCRYPTION_KEY when they work on data written with testCipher.
 */
export const TEST_KEY_HEX = randomBytes(32).toString('hex');
export const testCipher = createFieldCipher(Buffer.from(TEST_KEY_HEX, 'hex'));

export function demoOptions(overrides: Partial<CreateDemoCountyOptions> = {}): CreateDemoCountyOptions {
  return {
    seed: 3,
    customers: 900,
    months: 13,
    untilPeriod: '2026-10' as Period,
    // A precomputed scrypt hash of "gridcollect" keeps tests from hashing on every run.
    passwordHash: DEMO_PASSWORD_HASH,
    encrypt: testCipher.encrypt,
    concurrency: 2,
    worker: 'test',
    partitionSize: 200,
    ...overrides,
  };
}

export const DEMO_PASSWORD_HASH =
  'scrypt$16384$8$1$RicnkC444t5p3zpSk6bWxQ==$zOkMaVINNK4rKZC4lW8PKCGdsLHfbUWx9yzvDXDCH9s=';

export async function createSmallDemo(db: Kysely<DB>, overrides: Partial<CreateDemoCountyOptions> = {}) {
  return createDemoCounty(db, demoOptions(overrides));
}

const DIGEST_QUERIES: Record<string, string> = {
  org_unit: 'select org_unit_id, parent_id, kind, code, name, path from org_unit order by 1',
  staff: 'select staff_id, org_unit_id, login, name, roles from staff order by 1',
  area: 'select area_id, station_id, parent_area_id, kind, code, name, transformer_kva from area order by 1',
  area_assignment: 'select area_id, staff_id, valid_from, note from area_assignment order by 1, 3',
  customer:
    'select customer_id, customer_no, name, category, station_id, transformer_area_id, address, phone, national_id_masked, billing_mode, protected, household_size, contract_capacity_kva, pf_standard, tariff_code, due_rule, occupancy, status, opened_on, closed_on from customer order by 1',
  customer_account:
    'select customer_id, account_no, withholding_bank_code, withholding_account_no_masked from customer_account order by 1, 2',
  meter:
    'select customer_id, meter_id, meter_no, multiplier, registers, installed_on, removed_on, initial_reads::text from meter order by 1, 2',
  meter_change:
    'select customer_id, meter_change_id, old_meter_id, new_meter_id, changed_on, old_final::text, new_initial::text from meter_change order by 1, 2',
  meter_read:
    'select customer_id, meter_read_id, meter_id, period, read_on, kind, source, total, sharp, peak, flat, valley, reactive, read_by from meter_read order by 1, 2',
  demo_read_fault: 'select * from demo_read_fault order by 1, 2, 3, 4',
  demo_customer_behaviour: 'select * from demo_customer_behaviour order by 1',
  capacity_change:
    'select customer_id, capacity_change_id, kind, from_date, to_date, capacity_kva from capacity_change order by 1, 2',
};

/** A digest of every generated table (without ciphertexts and timestamps), to compare two builds. */
export async function demoDigest(db: Kysely<DB>): Promise<Record<string, string>> {
  const digest: Record<string, string> = {};
  for (const [table, query] of Object.entries(DIGEST_QUERIES)) {
    const result = await sql<{ digest: string; rows: number }>`
      select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest, count(*)::int as rows
      from (${sql.raw(query)}) t`.execute(db);
    digest[table] = `${result.rows[0]!.rows}:${result.rows[0]!.digest}`;
  }
  return digest;
}
