import { type Kysely, type Transaction, sql } from 'kysely';
import { copyRows } from '../../db/raw-commands.js';
import type { DB } from '../../db/schema.js';
import { markDemoDatabase } from '../../app/installation-settings.js';
import { AppError } from '../../app/errors.js';
import { storeTariffs } from '../../app/import-tariffs.js';
import type { Encrypt } from '../../app/ports.js';
import { CLI_PRINCIPAL } from '../../app/principal.js';
import { nationalIdField, withholdingAccountField } from '../../app/sealed-fields.js';
import { createRun, pendingPartitions, runPartitions } from '../partitioned-run.js';
import { DEMO_JURISDICTION, DEMO_TARIFFS, DEMO_TARIFF_SOURCE } from './demo-tariffs.js';
import {
  ACCOUNT_COLUMNS,
  BEHAVIOUR_COLUMNS,
  CAPACITY_CHANGE_COLUMNS,
  CUSTOMER_COLUMNS,
  FAULT_COLUMNS,
  METER_CHANGE_COLUMNS,
  METER_COLUMNS,
  READ_COLUMNS,
  generateCustomer,
} from './generate-customer.js';
import { type CountyPlan, type DemoParams, planCounty } from './plan-county.js';

export interface CreateDemoCountyOptions extends DemoParams {
  /** One password hash for every demo login (hashing thousands of staff separately is pointless). */
  readonly passwordHash: string;
  readonly encrypt: Encrypt;
  readonly concurrency: number;
  readonly worker: string;
  readonly partitionSize?: number;
  readonly onProgress?: (customersDone: number, customersTotal: number) => void;
}

export interface DemoCountySummary {
  readonly runKey: string;
  readonly resumed: boolean;
  readonly alreadyCreated: boolean;
  readonly stations: number;
  readonly transformerAreas: number;
  readonly staff: number;
  readonly customers: number;
  readonly reads: number;
  readonly firstPeriod: string;
  readonly lastPeriod: string;
}

export function demoRunKey(params: DemoParams): string {
  return `demo:seed=${params.seed}:customers=${params.customers}:months=${params.months}:until=${params.untilPeriod}`;
}

export function defaultPartitionSize(customers: number): number {
  return Math.min(5000, Math.max(500, Math.ceil(customers / 8)));
}

/**
 * Creates the demo county in an empty database: the registry in one transaction, then the
 * customers with their meters and reads in partitions written with COPY. Resumable and
 * idempotent: rerun with the same parameters, it finishes what is left or does nothing.
 * Errors: database_not_empty, demo_parameters_differ.
 */
export async function createDemoCounty(
  db: Kysely<DB>,
  options: CreateDemoCountyOptions,
): Promise<DemoCountySummary> {
  const plan = planCounty(options);
  const runKey = demoRunKey(options);
  const partitionSize = options.partitionSize ?? defaultPartitionSize(options.customers);
  const partitions = Math.ceil(options.customers / partitionSize);
  const existing = await db.selectFrom('demo_county').selectAll().executeTakeFirst();
  const base = {
    runKey,
    stations: plan.orgUnits.filter((unit) => unit.kind === 'station').length,
    transformerAreas: plan.slots.length,
    staff: plan.staff.length,
    customers: options.customers,
    firstPeriod: plan.firstPeriod,
    lastPeriod: options.untilPeriod,
  };
  if (existing) {
    const same =
      Number(existing.seed) === options.seed &&
      existing.customers === options.customers &&
      existing.months === options.months &&
      existing.last_period === options.untilPeriod;
    if (!same) {
      throw new AppError(
        'demo_parameters_differ',
        `this database already holds a demo county (seed ${existing.seed}, ${existing.customers} customers, ${existing.months} months until ${existing.last_period})`,
      );
    }
    return { ...base, resumed: false, alreadyCreated: true, reads: await countReads(db) };
  }

  const resumed = await db.transaction().execute(async (trx) => {
    const run = await trx
      .selectFrom('job_run')
      .select(['status'])
      .where('run_key', '=', runKey)
      .executeTakeFirst();
    if (run) return true;
    const other = await trx
      .selectFrom('job_run')
      .select('run_key')
      .where('kind', '=', 'demo')
      .executeTakeFirst();
    const customers = await trx.selectFrom('customer').select('customer_id').limit(1).executeTakeFirst();
    const units = await trx.selectFrom('org_unit').select('org_unit_id').limit(1).executeTakeFirst();
    if (other || customers || units) {
      throw new AppError('database_not_empty', 'the demo county is created only in an empty database');
    }
    await writeRegistry(trx, plan, options.passwordHash);
    // What a worker needs to produce the same partitions (never the password hash).
    await createRun(trx, {
      runKey,
      kind: 'demo',
      params: {
        seed: options.seed,
        customers: options.customers,
        months: options.months,
        untilPeriod: options.untilPeriod,
        partitionSize,
      },
      partitions,
    });
    return false;
  });

  const doneBefore = await db
    .selectFrom('job_partition')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('items'), sql<number>`0`).as('items'))
    .where('run_key', '=', runKey)
    .where('status', '=', 'done')
    .executeTakeFirstOrThrow();
  let customersDone = Number(doneBefore.items);
  options.onProgress?.(customersDone, options.customers);

  await runPartitions(
    db,
    runKey,
    { concurrency: options.concurrency, worker: options.worker },
    (trx, partitionNo) => writeCustomerPartition(trx, plan, partitionNo, partitionSize, options.encrypt),
    (_partitionNo, outcome) => {
      customersDone += outcome.items;
      options.onProgress?.(customersDone, options.customers);
    },
  );

  if ((await pendingPartitions(db, runKey)) === 0) {
    await finishDemo(db, runKey, options, plan);
  }
  return { ...base, resumed, alreadyCreated: false, reads: await countReads(db) };
}

/** Claims and writes pending partitions of an existing demo run (the `gridcollect worker` path). */
export async function workOnDemoRun(
  db: Kysely<DB>,
  runKey: string,
  options: Pick<CreateDemoCountyOptions, 'encrypt' | 'concurrency' | 'worker'>,
): Promise<number> {
  const run = await db
    .selectFrom('job_run')
    .selectAll()
    .where('run_key', '=', runKey)
    .executeTakeFirstOrThrow();
  const params = run.params as DemoParams & { partitionSize: number };
  const plan = planCounty(params);
  const done = await runPartitions(db, runKey, options, (trx, partitionNo) =>
    writeCustomerPartition(trx, plan, partitionNo, params.partitionSize, options.encrypt),
  );
  if ((await pendingPartitions(db, runKey)) === 0) await finishDemo(db, runKey, params, plan);
  return done;
}

async function finishDemo(
  db: Kysely<DB>,
  runKey: string,
  params: DemoParams,
  plan: CountyPlan,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const updated = await trx
      .updateTable('job_run')
      .set({
        status: 'done',
        finished_at: new Date(),
        summary: JSON.stringify({ customers: params.customers }),
      })
      .where('run_key', '=', runKey)
      .where('status', '=', 'running')
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0) return;
    await trx
      .insertInto('demo_county')
      .values({
        demo_id: 1,
        seed: params.seed,
        customers: params.customers,
        months: params.months,
        first_period: plan.firstPeriod,
        last_period: params.untilPeriod,
      })
      .execute();
  });
  await sql`analyze`.execute(db);
}

async function countReads(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom('meter_read')
    .select((eb) => eb.fn.countAll<number>().as('reads'))
    .executeTakeFirstOrThrow();
  return Number(row.reads);
}

async function writeRegistry(trx: Transaction<DB>, plan: CountyPlan, passwordHash: string): Promise<void> {
  // Its staff share a published password: the database says it is a demo, in the same transaction.
  await markDemoDatabase(trx);
  await trx
    .insertInto('org_unit')
    .values(
      plan.orgUnits.map((unit) => ({
        org_unit_id: unit.orgUnitId,
        parent_id: unit.parentId,
        kind: unit.kind,
        code: unit.code,
        name: unit.name,
        name_en: unit.nameEn,
        path: unit.path,
      })),
    )
    .execute();
  await copyRows(
    trx,
    'staff',
    ['staff_id', 'org_unit_id', 'login', 'name', 'roles', 'phone', 'password_hash'],
    plan.staff.map((member) => [
      member.staffId,
      member.orgUnitId,
      member.login,
      member.name,
      `{${member.roles.join(',')}}`,
      member.phone,
      passwordHash,
    ]),
  );
  await copyRows(
    trx,
    'demo_staff_behaviour',
    ['staff_id', 'deposit_delay_days', 'laps_cash', 'estimates_reads'],
    plan.staff
      .filter((member) => member.roles.includes('collector'))
      .map((member) => [member.staffId, member.depositDelayDays, member.lapsCash, member.estimatesReads]),
  );
  await copyRows(
    trx,
    'area',
    ['area_id', 'station_id', 'parent_area_id', 'kind', 'code', 'name', 'transformer_kva'],
    plan.areas.map((area) => [
      area.areaId,
      area.stationId,
      area.parentAreaId,
      area.kind,
      area.code,
      area.name,
      area.transformerKva,
    ]),
  );
  await copyRows(
    trx,
    'area_assignment',
    ['area_id', 'staff_id', 'valid_from', 'note'],
    plan.assignments.map((assignment) => [
      assignment.areaId,
      assignment.staffId,
      assignment.validFrom,
      assignment.note,
    ]),
  );
  // The demo's tariff table goes in through the same validated path as an imported one.
  await storeTariffs(trx, CLI_PRINCIPAL, {
    tariffs: DEMO_TARIFFS.map((tariff) => ({
      ...tariff,
      versions: tariff.versions.map((version, k) => ({
        effectiveFrom: version.effectiveFrom,
        effectiveTo: tariff.versions[k + 1]?.effectiveFrom ?? null,
        jurisdiction: DEMO_JURISDICTION,
        source: DEMO_TARIFF_SOURCE,
        definition: version.definition,
      })),
    })),
  });
}

async function writeCustomerPartition(
  trx: Transaction<DB>,
  plan: CountyPlan,
  partitionNo: number,
  partitionSize: number,
  encrypt: Encrypt,
): Promise<{ items: number }> {
  const start = partitionNo * partitionSize;
  const end = Math.min(plan.params.customers, start + partitionSize);
  const customers: unknown[][] = [];
  const numbers: unknown[][] = [];
  const accounts: unknown[][] = [];
  const meters: unknown[][] = [];
  const meterNumbers: unknown[][] = [];
  const meterChanges: unknown[][] = [];
  const reads: unknown[][] = [];
  const faults: unknown[][] = [];
  const behaviours: unknown[][] = [];
  const capacityChanges: unknown[][] = [];
  for (let index = start; index < end; index++) {
    const generated = generateCustomer(plan, index);
    const customerId = Number(generated.customer[0]);
    if (generated.nationalId)
      generated.customer[8] = encrypt(generated.nationalId, nationalIdField(customerId));
    if (generated.account[5])
      generated.account[5] = encrypt(
        String(generated.account[5]),
        withholdingAccountField(customerId, Number(generated.account[1])),
      );
    customers.push(generated.customer);
    numbers.push([generated.customer[1], generated.customer[0]]);
    accounts.push(generated.account);
    for (const meter of generated.meters) {
      meters.push(meter);
      meterNumbers.push([meter[2], meter[0], meter[1]]);
    }
    meterChanges.push(...generated.meterChanges);
    for (const read of generated.reads) reads.push(read);
    faults.push(...generated.faults);
    behaviours.push(generated.behaviour);
    capacityChanges.push(...generated.capacityChanges);
  }
  await copyRows(trx, 'customer', CUSTOMER_COLUMNS, customers);
  await copyRows(trx, 'customer_number', ['customer_no', 'customer_id'], numbers);
  await copyRows(trx, 'customer_account', ACCOUNT_COLUMNS, accounts);
  await copyRows(trx, 'meter', METER_COLUMNS, meters);
  await copyRows(trx, 'meter_number', ['meter_no', 'customer_id', 'meter_id'], meterNumbers);
  await copyRows(trx, 'meter_change', METER_CHANGE_COLUMNS, meterChanges);
  await copyRows(trx, 'meter_read', READ_COLUMNS, reads);
  await copyRows(trx, 'demo_read_fault', FAULT_COLUMNS, faults);
  await copyRows(trx, 'demo_customer_behaviour', BEHAVIOUR_COLUMNS, behaviours);
  await copyRows(trx, 'capacity_change', CAPACITY_CHANGE_COLUMNS, capacityChanges);
  return { items: end - start };
}
