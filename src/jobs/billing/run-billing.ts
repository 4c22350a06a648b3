import { type Kysely, type Transaction, sql } from 'kysely';
import { CopyRows } from '../../db/raw-commands.js';
import type { DB } from '../../db/schema.js';
import { billId, periodEnd, periodStart } from '../../domain/billing/bill-identity.js';
import { BillingError, type TariffVersionDef, buildBill } from '../../domain/billing/build-bill.js';
import {
  type MeterSpan,
  type Register,
  type RegisterValues,
  REGISTERS,
  computeConsumption,
} from '../../domain/billing/consumption.js';
import {
  DEFAULT_READ_RULES,
  type ReadException,
  type ReadRules,
  checkReads,
} from '../../domain/billing/read-rules.js';
import { Decimal } from '../../domain/decimal.js';
import {
  type LocalDate,
  type Period,
  addDays,
  addMonths,
  periodMonth,
  periodYear,
} from '../../domain/local-date.js';
import { createRun, pendingPartitions, runPartitions } from '../partitioned-run.js';
import {
  type BillingFacts,
  type CustomerFact,
  type ReadFact,
  loadBillingFacts,
} from './load-billing-facts.js';

export interface RunBillingOptions {
  readonly period: Period;
  readonly stationId?: number;
  readonly dryRun?: boolean;
  readonly concurrency: number;
  readonly worker: string;
  readonly partitionSize?: number;
  readonly rules?: ReadRules;
  readonly onProgress?: (partitionsDone: number, partitionsTotal: number) => void;
}

export interface PartitionSummary {
  billed: number;
  held: number;
  failed: number;
  amountFen: number;
  exceptions: Record<string, number>;
  failures: { customerNo: string; reason: string }[];
}

export interface BillingRunSummary extends PartitionSummary {
  readonly runKey: string;
  readonly period: Period;
  readonly stationId: number | null;
  readonly dryRun: boolean;
  readonly partitions: number;
  /** Partitions this call completed (the rest were done before, or by other workers). */
  readonly partitionsDoneHere: number;
}

export const BILL_COLUMNS = [
  'customer_id',
  'bill_id',
  'period',
  'revision',
  'billing_run_key',
  'tariff_version_id',
  'kwh_total',
  'amount_fen',
  'funds_fen',
  'inputs',
];
export const LINE_COLUMNS = ['customer_id', 'bill_id', 'line_no', 'code', 'kwh', 'price', 'amount_fen'];
/** Failures listed in a summary; the counts are always complete. */
const FAILURES_LISTED_MAX = 50;

class DryRunRollback extends Error {}

/**
 * The monthly billing run (电费核算): reads → consumption → validation → tariff → draft bill with
 * lines, for every customer due in the period who has no bill yet. Customers whose reads are
 * held go to the exception queue instead. Partitioned and resumable; a run that finished is
 * followed by a new attempt that bills only who is still unbilled. Dry run: the real path,
 * rolled back.
 */
export async function runBilling(db: Kysely<DB>, options: RunBillingOptions): Promise<BillingRunSummary> {
  const rules = options.rules ?? DEFAULT_READ_RULES;
  const scope = await db
    .selectFrom('customer')
    .select((eb) => [eb.fn.min<number>('customer_id').as('low'), eb.fn.max<number>('customer_id').as('high')])
    .$if(options.stationId !== undefined, (query) => query.where('station_id', '=', options.stationId!))
    .executeTakeFirstOrThrow();
  const low = Number(scope.low ?? 1);
  const high = Number(scope.high ?? 0);
  const size = options.partitionSize ?? 5000;
  const partitions = high >= low ? Math.ceil((high - low + 1) / size) : 0;
  const versions = await loadTariffVersions(db);
  const base = `billing-run:${options.period}:${options.stationId === undefined ? 'all' : `station-${options.stationId}`}`;
  const work = (trx: Transaction<DB>, partitionNo: number, runKey: string, layout: RunLayout) =>
    billPartition(trx, {
      runKey,
      period: options.period,
      stationId: options.stationId,
      range: {
        low: layout.low + partitionNo * layout.size,
        high: Math.min(layout.high, layout.low + (partitionNo + 1) * layout.size - 1),
      },
      versions,
      rules,
    });

  if (options.dryRun) {
    const total = emptySummary();
    const runKey = `${base}:dry-run`;
    await db
      .transaction()
      .execute(async (trx) => {
        for (let partitionNo = 0; partitionNo < partitions; partitionNo++) {
          merge(total, await work(trx, partitionNo, runKey, { low, high, size, partitions }));
          options.onProgress?.(partitionNo + 1, partitions);
        }
        throw new DryRunRollback();
      })
      .catch((error) => {
        if (!(error instanceof DryRunRollback)) throw error;
      });
    return {
      ...total,
      runKey,
      period: options.period,
      stationId: options.stationId ?? null,
      dryRun: true,
      partitions,
      partitionsDoneHere: partitions,
    };
  }

  // A process joining a running run bills that run's partitions as the run laid them out.
  const run = await startOrResumeRun(db, base, { low, high, size, partitions }, options);
  const runKey = run.runKey;
  let done = run.partitions - (await pendingPartitions(db, runKey));
  options.onProgress?.(done, run.partitions);
  const partitionsDoneHere = await runPartitions(
    db,
    runKey,
    { concurrency: options.concurrency, worker: options.worker },
    async (trx, partitionNo) => {
      const summary = await work(trx, partitionNo, runKey, run);
      return { items: summary.billed, summary };
    },
    () => options.onProgress?.(++done, run.partitions),
  );
  const total = await runTotals(db, runKey);
  if ((await pendingPartitions(db, runKey)) === 0) {
    await db
      .updateTable('job_run')
      .set({ status: 'done', finished_at: new Date(), summary: JSON.stringify(total) })
      .where('run_key', '=', runKey)
      .where('status', '=', 'running')
      .execute();
  }
  return {
    ...total,
    runKey,
    period: options.period,
    stationId: options.stationId ?? null,
    dryRun: false,
    partitions: run.partitions,
    partitionsDoneHere,
  };
}

interface RunLayout {
  readonly low: number;
  readonly high: number;
  readonly size: number;
  readonly partitions: number;
}

async function startOrResumeRun(
  db: Kysely<DB>,
  base: string,
  layout: RunLayout,
  options: RunBillingOptions,
): Promise<RunLayout & { runKey: string }> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('billing-run'), hashtext(${base}))`.execute(trx);
    const runs = await trx
      .selectFrom('job_run')
      .select(['run_key', 'status', 'params', 'partitions'])
      .where('run_key', 'like', `${base}:%`)
      .execute();
    const running = runs.find((run) => run.status === 'running');
    if (running) {
      const params = running.params as { partitionSize?: number; low?: number; high?: number };
      return {
        runKey: running.run_key,
        low: params.low ?? layout.low,
        high: params.high ?? layout.high,
        size: params.partitionSize ?? layout.size,
        partitions: Number(running.partitions),
      };
    }
    const runKey = `${base}:${runs.length + 1}`;
    await createRun(trx, {
      runKey,
      kind: 'billing',
      params: {
        period: options.period,
        stationId: options.stationId ?? null,
        partitionSize: layout.size,
        low: layout.low,
        high: layout.high,
      },
      partitions: layout.partitions,
    });
    return { runKey, ...layout };
  });
}

async function runTotals(db: Kysely<DB>, runKey: string): Promise<PartitionSummary> {
  const rows = await db
    .selectFrom('job_partition')
    .select('summary')
    .where('run_key', '=', runKey)
    .where('status', '=', 'done')
    .execute();
  const total = emptySummary();
  for (const row of rows) if (row.summary) merge(total, row.summary as PartitionSummary);
  return total;
}

function emptySummary(): PartitionSummary {
  return { billed: 0, held: 0, failed: 0, amountFen: 0, exceptions: {}, failures: [] };
}

function merge(total: PartitionSummary, part: PartitionSummary): void {
  total.billed += part.billed;
  total.held += part.held;
  total.failed += part.failed;
  total.amountFen += part.amountFen;
  for (const [code, count] of Object.entries(part.exceptions))
    total.exceptions[code] = (total.exceptions[code] ?? 0) + count;
  for (const failure of part.failures)
    if (total.failures.length < FAILURES_LISTED_MAX) total.failures.push(failure);
}

export async function loadTariffVersions(db: Kysely<DB>): Promise<Map<string, TariffVersionDef[]>> {
  const rows = await db
    .selectFrom('tariff_version')
    .select(['tariff_version_id', 'tariff_code', 'effective_from', 'effective_to', 'definition'])
    .execute();
  const byCode = new Map<string, TariffVersionDef[]>();
  for (const row of rows) {
    const list = byCode.get(row.tariff_code) ?? [];
    list.push({
      tariffVersionId: row.tariff_version_id,
      effectiveFrom: row.effective_from as LocalDate,
      effectiveTo: row.effective_to as LocalDate | null,
      definition: row.definition,
    });
    byCode.set(row.tariff_code, list);
  }
  return byCode;
}

export interface PartitionContext {
  readonly runKey: string;
  readonly period: Period;
  readonly stationId: number | undefined;
  readonly range: { readonly low: number; readonly high: number };
  readonly versions: ReadonlyMap<string, TariffVersionDef[]>;
  readonly rules: ReadRules;
}

async function billPartition(trx: Transaction<DB>, context: PartitionContext): Promise<PartitionSummary> {
  const { period } = context;
  const start = periodStart(period);
  const end = periodEnd(period);
  const facts = await loadBillingFacts(
    trx,
    context.range,
    period,
    start,
    end,
    addMonths(period, -13),
    context.stationId,
  );
  const summary = emptySummary();
  const bills = new CopyRows('bill', BILL_COLUMNS);
  const lines = new CopyRows('bill_line', LINE_COLUMNS);
  const exceptions: {
    customer_id: number;
    period: string;
    code: string;
    severity: 'hold' | 'warn';
    detail: string;
    billing_run_key: string;
  }[] = [];
  const id = billId(period, 1);

  for (const customer of facts.customers) {
    const outcome = billCustomer(customer, facts, context);
    for (const found of outcome.exceptions) {
      summary.exceptions[found.code] = (summary.exceptions[found.code] ?? 0) + 1;
      exceptions.push({
        customer_id: customer.customer_id,
        period,
        code: found.code,
        severity: found.severity,
        detail: JSON.stringify(found.detail),
        billing_run_key: context.runKey,
      });
    }
    if (outcome.kind === 'held') {
      summary.held += 1;
      continue;
    }
    if (outcome.kind === 'failed') {
      summary.failed += 1;
      if (summary.failures.length < FAILURES_LISTED_MAX)
        summary.failures.push({ customerNo: customer.customer_no, reason: outcome.reason });
      continue;
    }
    const bill = outcome.bill;
    summary.billed += 1;
    summary.amountFen += bill.totalFen;
    bills.add([
      customer.customer_id,
      id,
      period,
      1,
      context.runKey,
      bill.tariffVersionIds[0] ?? null,
      bill.totalKwh.toString(),
      bill.totalFen,
      bill.fundsFen,
      JSON.stringify(bill.inputs),
    ]);
    bill.lines.forEach((line, k) => {
      lines.add([
        customer.customer_id,
        id,
        k + 1,
        line.code,
        line.kwh?.toString() ?? null,
        line.price?.toString() ?? null,
        line.amountFen,
      ]);
    });
  }
  await bills.copy(trx);
  await lines.copy(trx);
  for (let k = 0; k < exceptions.length; k += 1000) {
    await trx
      .insertInto('read_exception')
      .values(exceptions.slice(k, k + 1000))
      .onConflict((conflict) => conflict.columns(['customer_id', 'period', 'code']).doNothing())
      .execute();
  }
  return summary;
}

export type CustomerOutcome =
  | { kind: 'billed'; bill: ReturnType<typeof buildBill>; exceptions: ReadException[] }
  | { kind: 'held'; exceptions: ReadException[] }
  | { kind: 'failed'; reason: string; exceptions: ReadException[] };

/** A read's register values (named columns, read one by one: this runs for every meter). */
function readValues(row: ReadFact): RegisterValues {
  const result: Partial<Record<Register, Decimal>> = {};
  if (row.total !== null) result.total = new Decimal(row.total);
  if (row.sharp !== null) result.sharp = new Decimal(row.sharp);
  if (row.peak !== null) result.peak = new Decimal(row.peak);
  if (row.flat !== null) result.flat = new Decimal(row.flat);
  if (row.valley !== null) result.valley = new Decimal(row.valley);
  if (row.reactive !== null) result.reactive = new Decimal(row.reactive);
  return result;
}

/** Register values kept as a JSON object (a meter's initial reads, an old meter's final read). */
function jsonValues(row: Record<string, string>): RegisterValues {
  const result: Partial<Record<Register, Decimal>> = {};
  for (const register of REGISTERS) {
    const value = row[register];
    if (value !== null && value !== undefined) result[register] = new Decimal(value);
  }
  return result;
}

export function billCustomer(
  customer: CustomerFact,
  facts: BillingFacts,
  context: PartitionContext,
): CustomerOutcome {
  const meters = facts.meters.get(customer.customer_id) ?? [];
  const spans: MeterSpan[] = [];
  let spanFrom: string | null = null;
  let spanTo: string | null = null;
  let estimated = false;
  let missing = meters.length === 0;
  let demand: Decimal | null = null;
  for (const meter of meters) {
    const openingRead = meter.opening;
    const opening = openingRead ? readValues(openingRead) : jsonValues(meter.initial_reads ?? {});
    const openingDate = openingRead ? openingRead.read_on : addDays(meter.installed_on as LocalDate, -1);
    const closingRead = meter.closing;
    const change = facts.changes.get(customer.customer_id, meter.meter_id);
    let closing: RegisterValues;
    let closingDate: string;
    if (closingRead) {
      closing = readValues(closingRead);
      closingDate = closingRead.read_on;
      estimated ||= closingRead.kind === 'estimated';
      if (closingRead.demand !== null) demand = Decimal.max(demand ?? 0, new Decimal(closingRead.demand));
    } else if (meter.removed_on && change && meter.removed_on > openingDate) {
      closing = jsonValues(change.oldFinal);
      closingDate = meter.removed_on;
    } else {
      missing = true;
      continue;
    }
    spans.push({
      meterNo: meter.meter_no,
      multiplier: meter.multiplier,
      digits: meter.register_digits,
      opening,
      closing,
    });
    if (spanFrom === null || openingDate < spanFrom) spanFrom = openingDate;
    if (spanTo === null || closingDate > spanTo) spanTo = closingDate;
  }
  const history = (facts.history.get(customer.customer_id) ?? []).map((entry) => ({
    period: entry.period,
    kwh: new Decimal(entry.kwh),
  }));
  const lastYear = addMonths(context.period, -12);
  let zeroMonthsBefore = 0;
  for (const entry of history) {
    if (!entry.kwh.isZero()) break;
    zeroMonthsBefore += 1;
  }
  const consumption = missing ? null : computeConsumption(spans, context.rules.rolloverMaxFraction);
  const totalKwh = consumption
    ? (consumption.byRegister.total ??
      ['sharp', 'peak', 'flat', 'valley'].reduce(
        (sum, r) => sum.plus(consumption.byRegister[r as Register] ?? 0),
        new Decimal(0),
      ))
    : new Decimal(0);
  const confirmed = facts.confirmed.get(customer.customer_id);
  const exceptions = checkReads(
    {
      category: customer.category,
      hasClosingRead: !missing,
      estimated,
      occupied: customer.occupancy === 'occupied',
      consumption,
      totalKwh,
      history: {
        recentKwh: history.slice(0, 3).map((entry) => entry.kwh),
        sameMonthLastYearKwh: history.find((entry) => entry.period === lastYear)?.kwh ?? null,
        zeroMonthsBefore,
      },
    },
    context.rules,
  ).map(
    (found): ReadException =>
      found.severity === 'hold' && confirmed?.has(found.code)
        ? { ...found, severity: 'warn' as const }
        : found,
  );
  // A conflicting read from a later file waits for the checker: neither value is billed until then.
  for (const code of facts.undecidedConflicts.get(customer.customer_id) ?? [])
    exceptions.push({ code, severity: 'hold', detail: {} });
  if (exceptions.some((found) => found.severity === 'hold')) return { kind: 'held', exceptions };

  const versions = context.versions.get(customer.tariff_code) ?? [];
  const tierYear = periodYear(context.period);
  const priorKwh = history
    .filter((entry) => Number(entry.period.slice(0, 4)) === tierYear)
    .reduce((sum, entry) => sum.plus(entry.kwh), new Decimal(0));
  const closedInPeriod =
    customer.closed_on && customer.closed_on <= periodEnd(context.period) ? customer.closed_on : null;
  try {
    const bill = buildBill({
      customer: {
        householdSize: customer.household_size,
        openedOn: customer.opened_on as LocalDate,
        closedOn: customer.closed_on as LocalDate | null,
        capacityKva: customer.contract_capacity_kva ? new Decimal(customer.contract_capacity_kva) : null,
        contractDemandKw: customer.contract_demand_kw ? new Decimal(customer.contract_demand_kw) : null,
        lowSideMetered: customer.metering_side === 'low',
        capacityChanges: (facts.capacityChanges.get(customer.customer_id) ?? []).map((change) => ({
          from: change.from as LocalDate,
          to: change.to as LocalDate | null,
          capacityKva: new Decimal(change.capacityKva),
        })),
      },
      versions,
      spanFrom: spanFrom as LocalDate,
      spanTo: (closedInPeriod && closedInPeriod > spanTo! ? closedInPeriod : spanTo) as LocalDate,
      consumption: consumption!.byRegister,
      demandKw: demand,
      priorKwh,
      tierMonth: periodMonth(context.period),
      tierYear,
    });
    return { kind: 'billed', bill, exceptions };
  } catch (error) {
    if (error instanceof BillingError)
      return { kind: 'failed', reason: `${error.code}: ${error.message}`, exceptions };
    throw error;
  }
}
