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
import { CONFLICTING_READ, conflictCode, disagreements } from '../domain/reads/conflicting-read.js';
import { AppError } from './errors.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';
import { isInScope } from './ledger/scope.js';

export interface ImportReadsResult {
  readonly rows: number;
  readonly imported: number;
  readonly alreadyImported: number;
  /** Lines that disagree with an accepted read: held as pending corrections for a checker. */
  readonly corrections: readonly ReadCorrectionLine[];
}

/** A line held as a pending correction: what the accepted read says and what the file says. */
export interface ReadCorrectionLine {
  readonly fileName: string;
  readonly line: number;
  readonly meterNo: string;
  readonly customerNo: string;
  readonly period: string;
  /** The read exception a checker resolves (confirm: the new value is billed; reject: the old stays). */
  readonly code: string;
  readonly oldValues: Readonly<Record<string, string>>;
  readonly newValues: Readonly<Record<string, string>>;
  /** The period is billed already: after a checker confirms, a rebill is the way to change the bill. */
  readonly billed: boolean;
}

/** Reads may be taken a few days either side of their period's month. */
const READ_DATE_SLACK_DAYS = 10;

/**
 * Imports a file of meter reads (manual rounds, handheld terminals, or the AMI feed). Every row
 * is checked first — meter known, register on the meter, value within its digits, date near the
 * period, reader known — and a file with any problem is refused whole, each problem with its
 * line. Reads are keyed by their content, so importing the same file again adds nothing.
 * A line that disagrees with the read already accepted for its meter and period is not taken
 * silently: it is kept as a pending correction (not billed) under a holding conflicting_read
 * exception for a billing checker to confirm or reject, and listed in `corrections`. A line for a
 * period whose earlier correction still awaits the checker refuses the file.
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
          'customer.customer_no',
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
  const checked: {
    read: ParsedRead;
    customerId: number;
    customerNo: string;
    meterId: number;
    readBy: number | null;
  }[] = [];
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
      customerNo: meter.customer_no,
      meterId: meter.meter_id,
      readBy: read.reader ? (staffByLogin.get(read.reader) ?? null) : principal.staffId,
    });
  }
  if (found.length > 0) throw fileProblems(input.fileName, found);
  return db.transaction().execute(async (trx) => {
    const keyed = checked.map((entry) => ({ ...entry, key: `read:${contentKey(input.format, entry.read)}` }));
    const customerIds = [...new Set(keyed.map((entry) => entry.customerId))];
    const periods = [...new Set(keyed.map((entry) => entry.read.period))];
    const next = new Map<number, number>();
    /** Keys of reads and pending corrections already stored: those lines were imported before. */
    const seen = new Set<string>();
    /** The read each meter's period has now (a correction supersedes the read it corrects). */
    const accepted = new Map<string, AcceptedRead>();
    /** Conflict exceptions of each customer's period, in order, with their decision if any. */
    const conflicts = new Map<string, { code: string; resolution: string | null }[]>();
    for (let k = 0; k < customerIds.length; k += 1000) {
      const slice = sql.val(customerIds.slice(k, k + 1000));
      const keys = sql.val(keyed.map((entry) => entry.key));
      const [maxRows, keyRows, acceptedRows, conflictRows] = await Promise.all([
        sql<{ customer_id: number; max_id: number }>`
          select customer_id, max(meter_read_id) as max_id from meter_read where customer_id = any(${slice}::int8[]) group by customer_id`.execute(
          trx,
        ),
        sql<{ customer_id: number; import_key: string }>`
          select customer_id, import_key from meter_read where customer_id = any(${slice}::int8[]) and import_key = any(${keys}::text[])
          union all
          select customer_id, import_key from read_correction where customer_id = any(${slice}::int8[]) and import_key = any(${keys}::text[])`.execute(
          trx,
        ),
        sql<AcceptedRead & { customer_id: number; meter_id: number; period: string }>`
          select distinct on (r.customer_id, r.meter_id, r.period) r.customer_id, r.meter_id, r.period, r.meter_read_id,
                 r.total, r.sharp, r.peak, r.flat, r.valley, r.reactive, r.demand
          from meter_read r
          where r.customer_id = any(${slice}::int8[]) and r.period = any(${sql.val(periods)}::text[])
            and not exists (select 1 from meter_read s where s.customer_id = r.customer_id and s.supersedes_read_id = r.meter_read_id)
          order by r.customer_id, r.meter_id, r.period, r.read_on desc, r.meter_read_id desc`.execute(trx),
        sql<{ customer_id: number; period: string; code: string; resolution: string | null }>`
          select e.customer_id, e.period, e.code, x.resolution from read_exception e
          left join read_exception_resolution x on x.customer_id = e.customer_id and x.period = e.period and x.code = e.code
          where e.customer_id = any(${slice}::int8[]) and e.period = any(${sql.val(periods)}::text[])
            and (e.code = ${CONFLICTING_READ} or e.code like ${`${CONFLICTING_READ}-%`})
          order by e.customer_id, e.period, e.created_at`.execute(trx),
      ]);
      for (const row of maxRows.rows) next.set(row.customer_id, Number(row.max_id) + 1);
      for (const row of keyRows.rows) seen.add(`${row.customer_id}:${row.import_key}`);
      for (const { customer_id, meter_id, period, ...read } of acceptedRows.rows)
        accepted.set(`${customer_id}:${meter_id}:${period}`, read);
      for (const row of conflictRows.rows) {
        const list = conflicts.get(`${row.customer_id}:${row.period}`) ?? [];
        list.push({ code: row.code, resolution: row.resolution });
        conflicts.set(`${row.customer_id}:${row.period}`, list);
      }
    }

    // A line that disagrees with the accepted read becomes a pending correction under this
    // file's conflict exception for the customer's period; one decided by no checker yet holds
    // later files back (decide it first).
    const opened = new Map<
      string,
      { code: string; lines: ReadCorrectionLine[]; customerId: number; period: string }
    >();
    const refused: ReadFileProblem[] = [];
    const plain: typeof keyed = [];
    const pending: { entry: (typeof keyed)[number]; code: string; conflictsWith: number }[] = [];
    for (const entry of keyed) {
      if (seen.has(`${entry.customerId}:${entry.key}`)) continue;
      const current = accepted.get(`${entry.customerId}:${entry.meterId}:${entry.read.period}`);
      const differ = current
        ? disagreements(current, { ...entry.read.values, demand: entry.read.demand })
        : { old: {}, new: {} };
      if (!current || Object.keys(differ.old).length === 0) {
        plain.push(entry);
        continue;
      }
      const periodKey = `${entry.customerId}:${entry.read.period}`;
      let open = opened.get(periodKey);
      if (!open) {
        const earlier = conflicts.get(periodKey) ?? [];
        const undecided = earlier.find((conflict) => conflict.resolution === null);
        if (undecided) {
          refused.push({
            line: entry.read.line,
            field: 'meter_no',
            reason: `meter ${entry.read.meterNo} period ${entry.read.period}: an earlier correction (${undecided.code}) awaits a checker's decision`,
          });
          continue;
        }
        open = {
          code: conflictCode(earlier.length + 1),
          lines: [],
          customerId: entry.customerId,
          period: entry.read.period,
        };
        opened.set(periodKey, open);
      }
      open.lines.push({
        fileName: input.fileName,
        line: entry.read.line,
        meterNo: entry.read.meterNo,
        customerNo: entry.customerNo,
        period: entry.read.period,
        code: open.code,
        oldValues: differ.old,
        newValues: differ.new,
        billed: false,
      });
      pending.push({ entry, code: open.code, conflictsWith: current.meter_read_id });
    }
    if (refused.length > 0) throw fileProblems(input.fileName, refused);

    let imported = 0;
    for (const entry of plain) {
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
          source: readSource(input.format, entry.read),
          ...entry.read.values,
          demand: entry.read.demand,
          read_by: input.format === 'ami' ? null : entry.readBy,
          import_key: entry.key,
        })
        .onConflict((conflict) => conflict.columns(['customer_id', 'import_key']).doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) {
        imported += 1;
        next.set(entry.customerId, id + 1);
      }
    }

    const corrections: ReadCorrectionLine[] = [];
    if (opened.size > 0) {
      const billed = await sql<{ customer_id: number; period: string }>`
        select distinct customer_id, period from bill
        where customer_id = any(${sql.val([...new Set(pending.map((p) => p.entry.customerId))])}::int8[])
          and period = any(${sql.val(periods)}::text[])`.execute(trx);
      const billedKeys = new Set(billed.rows.map((row) => `${row.customer_id}:${row.period}`));
      for (const [periodKey, open] of opened) {
        const isBilled = billedKeys.has(periodKey);
        for (const line of open.lines) corrections.push({ ...line, billed: isBilled });
        await trx
          .insertInto('read_exception')
          .values({
            customer_id: open.customerId,
            period: open.period,
            code: open.code,
            severity: 'hold',
            detail: JSON.stringify({
              fileName: input.fileName,
              billed: isBilled,
              lines: open.lines.map(({ line, meterNo, oldValues, newValues }) => ({
                line,
                meterNo,
                oldValues,
                newValues,
              })),
            }),
            billing_run_key: `reads-import:${input.fileName}`,
          })
          .execute();
      }
      const nextCorrection = new Map<number, number>();
      for (const { entry, code, conflictsWith } of pending) {
        let id = nextCorrection.get(entry.customerId);
        if (id === undefined) {
          const row = await sql<{ next: number }>`
            select coalesce(max(read_correction_id), 0) + 1 as next from read_correction where customer_id = ${entry.customerId}`.execute(
            trx,
          );
          id = Number(row.rows[0]!.next);
        }
        nextCorrection.set(entry.customerId, id + 1);
        await trx
          .insertInto('read_correction')
          .values({
            customer_id: entry.customerId,
            read_correction_id: id,
            meter_id: entry.meterId,
            period: entry.read.period,
            exception_code: code,
            read_on: entry.read.readOn,
            kind: entry.read.kind,
            source: readSource(input.format, entry.read),
            ...entry.read.values,
            demand: entry.read.demand,
            read_by: input.format === 'ami' ? null : entry.readBy,
            conflicts_with_read_id: conflictsWith,
            file_name: input.fileName,
            line: entry.read.line,
            import_key: entry.key,
          })
          .execute();
      }
    }
    corrections.sort((a, b) => a.line - b.line);
    await recordAudit(trx, principal, {
      action: 'reads.import',
      objectType: 'read_file',
      objectId: input.fileName,
      details: {
        format: input.format,
        rows: checked.length,
        imported,
        corrections: corrections.map(({ line, meterNo, code }) => ({ line, meterNo, code })),
      },
    });
    return {
      rows: checked.length,
      imported,
      alreadyImported: checked.length - imported - corrections.length,
      corrections,
    };
  });
}

interface AcceptedRead {
  meter_read_id: number;
  total: string | null;
  sharp: string | null;
  peak: string | null;
  flat: string | null;
  valley: string | null;
  reactive: string | null;
  demand: string | null;
}

/** Reads are keyed by their content: the same line imported again is recognised. */
function contentKey(format: ReadFileFormat, read: ParsedRead): string {
  return createHash('sha256')
    .update(
      JSON.stringify([format, read.meterNo, read.period, read.readOn, read.kind, read.values, read.demand]),
    )
    .digest('hex')
    .slice(0, 32);
}

function readSource(format: ReadFileFormat, read: ParsedRead): 'ami' | 'handheld' | 'manual' {
  return format === 'ami' ? 'ami' : read.reader ? 'handheld' : 'manual';
}

/** A file refused whole: each problem with its line (the first 20 in the message). */
function fileProblems(fileName: string, problems: ReadFileProblem[]): AppError {
  const found = [...problems].sort((a, b) => a.line - b.line);
  const shown = found
    .slice(0, 20)
    .map((problem) => `line ${problem.line}, ${problem.field}: ${problem.reason}`);
  return new AppError(
    'validation_failed',
    `${fileName}: ${found.length} problem(s), nothing imported. ${shown.join('; ')}`,
    { problems: found },
  );
}
