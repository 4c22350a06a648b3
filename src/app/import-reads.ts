import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { periodEnd, periodStart } from '../domain/billing/bill-identity.js';
import { dayNumber } from '../domain/local-date.js';
import {
  type ParsedRead,
  type ReadFileFormat,
  type ReadFileProblem,
  parseReadRecords,
} from '../domain/reads/parse-read-file.js';
import { AppError } from './errors.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';
import { isInScope } from './ledger/scope.js';

export interface ImportReadsResult {
  readonly rows: number;
  readonly imported: number;
  readonly alreadyImported: number;
}

/** Reads may be taken a few days either side of their period's month. */
const READ_DATE_SLACK_DAYS = 10;

/**
 * Imports a file of meter reads (manual rounds, handheld terminals, or the AMI feed). Every row
 * is checked first — meter known, register on the meter, value within its digits, date near the
 * period, reader known — and a file with any problem is refused whole, each problem with its
 * line. Reads are keyed by their content, so importing the same file again adds nothing.
 * Errors: forbidden, validation_failed (details.problems lists line, field and reason).
 */
export async function importReads(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly format: ReadFileFormat;
    readonly records: readonly (readonly string[])[];
    readonly fileName: string;
  },
): Promise<ImportReadsResult> {
  requirePermission(principal, 'reads.import');
  const { reads, problems } = parseReadRecords(input.format, input.records);
  const meterNos = [...new Set(reads.map((read) => read.meterNo))];
  const meters = meterNos.length
    ? await db
        .selectFrom('meter_number')
        .innerJoin('meter', (join) =>
          join
            .onRef('meter.customer_id', '=', 'meter_number.customer_id')
            .onRef('meter.meter_id', '=', 'meter_number.meter_id'),
        )
        .innerJoin('customer', 'customer.customer_id', 'meter.customer_id')
        .innerJoin('org_unit', 'org_unit.org_unit_id', 'customer.station_id')
        .select([
          'meter_number.meter_no',
          'meter.customer_id',
          'meter.meter_id',
          'meter.registers',
          'meter.register_digits',
          'org_unit.path',
        ])
        .where('meter_number.meter_no', 'in', meterNos)
        .execute()
    : [];
  const byNo = new Map(meters.map((meter) => [meter.meter_no, meter]));
  const readers = [
    ...new Set(reads.map((read) => read.reader).filter((reader): reader is string => reader !== null)),
  ];
  const staff = readers.length
    ? await db.selectFrom('staff').select(['staff_id', 'login']).where('login', 'in', readers).execute()
    : [];
  const staffByLogin = new Map(staff.map((member) => [member.login, member.staff_id]));
  const checked: { read: ParsedRead; customerId: number; meterId: number; readBy: number | null }[] = [];
  const found: ReadFileProblem[] = [...problems];
  for (const read of reads) {
    const meter = byNo.get(read.meterNo);
    if (!meter || !isInScope(principal, meter.path)) {
      found.push({
        line: read.line,
        field: 'meter_no',
        reason: `meter ${read.meterNo} is not known${meter ? ' in your scope' : ''}`,
      });
      continue;
    }
    for (const [register, value] of Object.entries(read.values)) {
      if (!meter.registers.includes(register))
        found.push({
          line: read.line,
          field: register,
          reason: `meter ${read.meterNo} has no ${register} register`,
        });
      else if (Number(value.split('.')[0]) >= 10 ** meter.register_digits) {
        found.push({
          line: read.line,
          field: register,
          reason: `more than the meter's ${meter.register_digits} digits`,
        });
      }
    }
    const from = dayNumber(periodStart(read.period)) - READ_DATE_SLACK_DAYS;
    const to = dayNumber(periodEnd(read.period)) + READ_DATE_SLACK_DAYS;
    if (dayNumber(read.readOn) < from || dayNumber(read.readOn) > to) {
      found.push({
        line: read.line,
        field: 'read_on',
        reason: `${read.readOn} is too far from period ${read.period}`,
      });
    }
    if (read.reader !== null && !staffByLogin.has(read.reader))
      found.push({ line: read.line, field: 'reader', reason: `no staff member ${read.reader}` });
    checked.push({
      read,
      customerId: meter.customer_id,
      meterId: meter.meter_id,
      readBy: read.reader ? (staffByLogin.get(read.reader) ?? null) : principal.staffId,
    });
  }
  if (found.length > 0) {
    found.sort((a, b) => a.line - b.line);
    const shown = found
      .slice(0, 20)
      .map((problem) => `line ${problem.line}, ${problem.field}: ${problem.reason}`);
    throw new AppError(
      'validation_failed',
      `${input.fileName}: ${found.length} problem(s), nothing imported. ${shown.join('; ')}`,
      { problems: found },
    );
  }
  return db.transaction().execute(async (trx) => {
    const customerIds = [...new Set(checked.map((entry) => entry.customerId))];
    const next = new Map<number, number>();
    for (let k = 0; k < customerIds.length; k += 1000) {
      const slice = customerIds.slice(k, k + 1000);
      const rows = await sql<{ customer_id: number; max_id: number }>`
        select customer_id, max(meter_read_id) as max_id from meter_read where customer_id = any(${sql.val(slice)}::int8[]) group by customer_id`.execute(
        trx,
      );
      for (const row of rows.rows) next.set(row.customer_id, Number(row.max_id) + 1);
    }
    let imported = 0;
    for (const entry of checked) {
      const key = createHash('sha256')
        .update(
          JSON.stringify([
            input.format,
            entry.read.meterNo,
            entry.read.period,
            entry.read.readOn,
            entry.read.kind,
            entry.read.values,
            entry.read.demand,
          ]),
        )
        .digest('hex')
        .slice(0, 32);
      const id = next.get(entry.customerId) ?? entry.customerId * 1000 + 1;
      const result = await trx
        .insertInto('meter_read')
        .values({
          customer_id: entry.customerId,
          meter_read_id: id,
          meter_id: entry.meterId,
          period: entry.read.period,
          read_on: entry.read.readOn,
          kind: entry.read.kind,
          source: input.format === 'ami' ? 'ami' : entry.read.reader ? 'handheld' : 'manual',
          ...entry.read.values,
          demand: entry.read.demand,
          read_by: input.format === 'ami' ? null : entry.readBy,
          import_key: `read:${key}`,
        })
        .onConflict((conflict) => conflict.columns(['customer_id', 'import_key']).doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) {
        imported += 1;
        next.set(entry.customerId, id + 1);
      }
    }
    await recordAudit(trx, principal, {
      action: 'reads.import',
      objectType: 'read_file',
      objectId: input.fileName,
      details: { format: input.format, rows: checked.length, imported },
    });
    return { rows: checked.length, imported, alreadyImported: checked.length - imported };
  });
}
