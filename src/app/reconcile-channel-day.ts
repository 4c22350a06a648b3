import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import {
  type ChannelLine,
  type Discrepancy,
  type UtilityRecord,
  lineJson,
  reconcileDay,
} from '../domain/channel/reconcile-day.js';
import type { LocalDate } from '../domain/local-date.js';
import { type Fen, fen, formatYuan } from '../domain/money.js';
import { channelPaymentKey, lockChannelDay } from './channel-collection.js';
import { AppError } from './errors.js';
import type { Clock } from './ports.js';
import type { Principal } from './principal.js';
import { recordAudit } from './record-audit.js';

export interface ReconciliationInput {
  readonly businessDate: LocalDate;
  readonly count: number;
  readonly totalFen: Fen;
  readonly lines: readonly ChannelLine[];
}

export interface ReconciliationResult {
  readonly businessDate: string;
  readonly matched: number;
  readonly total: string;
  readonly discrepancies: readonly {
    readonly txnId: string;
    readonly kind: Discrepancy['kind'];
    readonly channel: Record<string, string> | null;
    readonly utility: Record<string, string> | null;
  }[];
  /** Added fields: the submission number and whether the day is accepted (reversal closed). */
  readonly submissionNo: number;
  readonly accepted: boolean;
}

function linesHash(lines: readonly ChannelLine[]): string {
  const canonical = [...lines]
    .sort((a, b) => (a.txnId < b.txnId ? -1 : a.txnId > b.txnId ? 1 : 0))
    .map((line) => [line.txnId, line.customerNo, line.amountFen, line.status]);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** Checks the file against itself: count and total agree with the lines, txnIds are unique. */
export function checkReconciliationInput(input: ReconciliationInput, today: LocalDate): void {
  if (input.businessDate > today)
    throw new AppError('validation_failed', `businessDate: ${input.businessDate} has not begun yet`);
  if (input.count !== input.lines.length)
    throw new AppError(
      'validation_failed',
      `count: ${input.count} but lines has ${input.lines.length} entries`,
    );
  // Exact whatever the lines: their sum may pass the safe integer range (and then cannot agree).
  const all = input.lines.reduce((sum, line) => sum + BigInt(line.amountFen), 0n);
  const posted = input.lines
    .filter((line) => line.status === 'posted')
    .reduce((sum, line) => sum + BigInt(line.amountFen), 0n);
  const total = BigInt(input.totalFen);
  if (total !== all && total !== posted)
    throw new AppError(
      'validation_failed',
      `total: ${formatYuan(input.totalFen)} but the lines sum to ${formatYuan(all)} (posted only: ${formatYuan(posted)})`,
    );
  const seen = new Set<string>();
  input.lines.forEach((line, k) => {
    if (seen.has(line.txnId))
      throw new AppError('validation_failed', `lines[${k}].txnId: ${line.txnId} is listed twice`);
    seen.add(line.txnId);
  });
}

/**
 * The utility's records of a channel for one business day, plus those of the txnIds the channel
 * listed whatever their day.
 */
async function utilityRecords(
  trx: Kysely<DB>,
  channelCode: string,
  businessDate: string,
  txnIds: readonly string[],
): Promise<UtilityRecord[]> {
  const keys = txnIds.map((txnId) => channelPaymentKey(channelCode, txnId));
  const rows = await sql<{
    channel_txn_id: string;
    customer_no: string;
    amount_fen: number;
    receipt_no: string;
    business_date: string;
    reversed: boolean;
  }>`
    with wanted as (
      select customer_id, payment_id from payment where channel_code = ${channelCode} and business_date = ${businessDate}::date
      union
      select customer_id, payment_id from payment_key where idempotency_key = any(${keys}::text[])
    )
    select p.channel_txn_id, c.customer_no, p.amount_fen, p.receipt_no, p.business_date::text as business_date,
      exists (select 1 from payment_reversal r where r.customer_id = p.customer_id and r.payment_id = p.payment_id) as reversed
    from wanted w
    join payment p on p.customer_id = w.customer_id and p.payment_id = w.payment_id
    join customer c on c.customer_id = p.customer_id
    where p.channel_code = ${channelCode}`.execute(trx);
  return rows.rows.map((row) => ({
    txnId: row.channel_txn_id,
    customerNo: row.customer_no,
    amountFen: fen(Number(row.amount_fen)),
    status: row.reversed ? 'reversed' : 'posted',
    receiptNo: row.receipt_no,
    businessDate: row.business_date,
  }));
}

/**
 * A channel's daily reconciliation (docs/channel-api.md §4): the file is matched line by line with
 * the utility's records; a clean match accepts the day (and closes reversal); discrepancies
 * become cases for staff and nothing is corrected automatically. Submitting the same lines again
 * returns the same result; other lines replace an open day's submission (its cases stay on
 * record) and are refused once the day is accepted.
 * Errors: validation_failed, reconciliation_closed.
 */
export async function reconcileChannelDay(
  db: Kysely<DB>,
  principal: Principal,
  channelCode: string,
  clock: Clock,
  input: ReconciliationInput,
): Promise<ReconciliationResult> {
  checkReconciliationInput(input, clock.today());
  const hash = linesHash(input.lines);
  return db.transaction().execute(async (trx) => {
    const accepted = await lockChannelDay(trx, channelCode, input.businessDate, 'exclusive');
    const latest = await trx
      .selectFrom('channel_reconciliation')
      .selectAll()
      .where('channel_code', '=', channelCode)
      .where('business_date', '=', input.businessDate)
      .orderBy('submission_no', 'desc')
      .executeTakeFirst();
    if (latest && latest.lines_hash === hash) return storedResult(trx, channelCode, latest, accepted);
    if (accepted)
      throw new AppError(
        'reconciliation_closed',
        `the reconciliation of ${input.businessDate} was accepted with other lines; it cannot be replaced`,
      );
    const records = await utilityRecords(
      trx,
      channelCode,
      input.businessDate,
      input.lines.map((line) => line.txnId),
    );
    const result = reconcileDay(input.businessDate, input.lines, records);
    const submissionNo = (latest?.submission_no ?? 0) + 1;
    await trx
      .insertInto('channel_reconciliation')
      .values({
        channel_code: channelCode,
        business_date: input.businessDate,
        submission_no: submissionNo,
        lines_hash: hash,
        line_count: input.count,
        total_fen: input.totalFen,
        lines: JSON.stringify(input.lines),
        matched: result.matched,
        matched_total_fen: result.matchedTotalFen,
        discrepancy_count: result.discrepancies.length,
        submitted_at: clock.now(),
      })
      .execute();
    for (let k = 0; k < result.discrepancies.length; k += 500) {
      await trx
        .insertInto('reconciliation_case')
        .values(
          result.discrepancies.slice(k, k + 500).map((discrepancy) => ({
            channel_code: channelCode,
            business_date: input.businessDate,
            submission_no: submissionNo,
            txn_id: discrepancy.txnId,
            kind: discrepancy.kind,
            channel_line: discrepancy.channel ? JSON.stringify(discrepancy.channel) : null,
            utility_line: discrepancy.utility ? JSON.stringify(discrepancy.utility) : null,
          })),
        )
        .execute();
    }
    const clean = result.discrepancies.length === 0;
    if (clean)
      await trx
        .insertInto('channel_day_accepted')
        .values({
          channel_code: channelCode,
          business_date: input.businessDate,
          submission_no: submissionNo,
          accepted_at: clock.now(),
          how: 'clean_match',
        })
        .execute();
    await recordAudit(trx, principal, {
      action: 'channel.reconcile',
      objectType: 'channel_day',
      objectId: `${channelCode}:${input.businessDate}`,
      details: {
        submissionNo,
        lines: input.count,
        matched: result.matched,
        discrepancies: result.discrepancies.length,
        accepted: clean,
      },
    });
    return {
      businessDate: input.businessDate,
      matched: result.matched,
      total: formatYuan(result.matchedTotalFen),
      discrepancies: result.discrepancies.map((d) => ({
        txnId: d.txnId,
        kind: d.kind,
        channel: lineJson(d.channel),
        utility: lineJson(d.utility),
      })),
      submissionNo,
      accepted: clean,
    };
  });
}

async function storedResult(
  trx: Kysely<DB>,
  channelCode: string,
  submission: { business_date: string; submission_no: number; matched: number; matched_total_fen: number },
  accepted: boolean,
): Promise<ReconciliationResult> {
  const cases = await trx
    .selectFrom('reconciliation_case')
    .select(['txn_id', 'kind', 'channel_line', 'utility_line'])
    .where('channel_code', '=', channelCode)
    .where('business_date', '=', submission.business_date)
    .where('submission_no', '=', submission.submission_no)
    .execute();
  cases.sort((a, b) => (a.txn_id < b.txn_id ? -1 : a.txn_id > b.txn_id ? 1 : 0));
  return {
    businessDate: submission.business_date,
    matched: submission.matched,
    total: formatYuan(fen(Number(submission.matched_total_fen))),
    discrepancies: cases.map((row) => ({
      txnId: row.txn_id,
      kind: row.kind,
      channel: lineJson(row.channel_line as ChannelLine | null),
      utility: lineJson(row.utility_line as UtilityRecord | null),
    })),
    submissionNo: submission.submission_no,
    accepted,
  };
}
