import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import type { ChannelLine, UtilityRecord } from '../domain/channel/reconcile-day.js';
import type { LocalDate } from '../domain/local-date.js';
import { fen, formatYuan } from '../domain/money.js';
import { channelPaymentKey } from './channel-collection.js';
import { AppError } from './errors.js';
import type { Clock } from './ports.js';
import { postPayment } from './post-payment.js';
import { type Principal, channelPrincipal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';
import { reversePayment } from './reverse-payment.js';
import { requireNamedRequester, requireSecondPerson } from './ledger/two-person-rule.js';

export type CaseAction = 'post_missing' | 'reverse' | 'escalate' | 'no_action';

/** Which resolutions fit which discrepancy (docs/DOMAIN.md §5.1). */
const ALLOWED: Readonly<Record<string, readonly CaseAction[]>> = {
  missing_at_utility: ['post_missing', 'escalate', 'no_action'],
  missing_at_channel: ['reverse', 'escalate', 'no_action'],
  amount_mismatch: ['escalate', 'no_action', 'reverse'],
  status_mismatch: ['reverse', 'escalate', 'no_action'],
};

export interface CaseView {
  readonly caseId: number;
  readonly channelCode: string;
  readonly businessDate: string;
  readonly submissionNo: number;
  readonly txnId: string;
  readonly kind: string;
  readonly channel: Record<string, unknown> | null;
  readonly utility: Record<string, unknown> | null;
  readonly status: 'open' | 'awaiting_approval' | 'resolved' | 'superseded';
  readonly action: {
    readonly action: CaseAction;
    readonly reason: string;
    readonly requestedBy: number | null;
    readonly approvedBy: number | null;
    readonly receiptNo: string | null;
  } | null;
}

/** Reconciliation cases, newest day first; superseded ones belong to a replaced submission. */
export async function listReconciliationCases(
  db: Kysely<DB>,
  principal: Principal,
  filter: { readonly channelCode?: string; readonly status?: CaseView['status']; readonly limit?: number },
): Promise<CaseView[]> {
  requirePermission(principal, 'reconciliation.read');
  const rows = await sql<{
    case_id: number;
    channel_code: string;
    business_date: string;
    submission_no: number;
    txn_id: string;
    kind: string;
    channel_line: ChannelLine | null;
    utility_line: UtilityRecord | null;
    latest: number;
    action: CaseAction | null;
    reason: string | null;
    requested_by: number | null;
    approved_by: number | null;
    approved_at: Date | null;
    receipt_no: string | null;
  }>`
    select c.case_id, c.channel_code, c.business_date::text as business_date, c.submission_no, c.txn_id, c.kind,
      c.channel_line, c.utility_line,
      (select max(r.submission_no) from channel_reconciliation r
        where r.channel_code = c.channel_code and r.business_date = c.business_date) as latest,
      a.action, a.reason, a.requested_by, a.approved_by, a.approved_at, a.receipt_no
    from reconciliation_case c
    left join reconciliation_case_action a on a.case_id = c.case_id
    where (${filter.channelCode ?? null}::text is null or c.channel_code = ${filter.channelCode ?? null})
    order by c.business_date desc, c.case_id
    limit ${Math.min(filter.limit ?? 500, 5000)}`.execute(db);
  const views = rows.rows.map((row): CaseView => {
    const status: CaseView['status'] = row.approved_at
      ? 'resolved'
      : Number(row.submission_no) !== Number(row.latest)
        ? 'superseded'
        : row.action
          ? 'awaiting_approval'
          : 'open';
    return {
      caseId: Number(row.case_id),
      channelCode: row.channel_code,
      businessDate: row.business_date,
      submissionNo: row.submission_no,
      txnId: row.txn_id,
      kind: row.kind,
      channel: row.channel_line
        ? { ...row.channel_line, amount: formatYuan(fen(row.channel_line.amountFen)) }
        : null,
      utility: row.utility_line
        ? { ...row.utility_line, amount: formatYuan(fen(row.utility_line.amountFen)) }
        : null,
      status,
      action: row.action
        ? {
            action: row.action,
            reason: row.reason ?? '',
            requestedBy: row.requested_by,
            approvedBy: row.approved_by,
            receiptNo: row.receipt_no,
          }
        : null,
    };
  });
  return filter.status ? views.filter((view) => view.status === filter.status) : views;
}

async function loadCase(trx: Kysely<DB>, caseId: number) {
  const found = await trx
    .selectFrom('reconciliation_case')
    .selectAll()
    .where('case_id', '=', caseId)
    .executeTakeFirst();
  if (!found) throw new AppError('not_found', `no reconciliation case ${caseId}`);
  const latest = await trx
    .selectFrom('channel_reconciliation')
    .select((eb) => eb.fn.max('submission_no').as('latest'))
    .where('channel_code', '=', found.channel_code)
    .where('business_date', '=', found.business_date)
    .executeTakeFirstOrThrow();
  if (Number(latest.latest) !== found.submission_no)
    throw new AppError('case_already_resolved', `case ${caseId} belongs to a replaced submission`);
  return found;
}

/**
 * A staff member proposes how a case is resolved, with the reason; a second person approves it
 * (approveCaseResolution), and only then is anything posted or reversed.
 * Errors: forbidden, not_found, validation_failed, case_already_resolved.
 */
export async function requestCaseResolution(
  db: Kysely<DB>,
  principal: Principal,
  input: { readonly caseId: number; readonly action: CaseAction; readonly reason: string },
): Promise<{ caseId: number; status: 'awaiting_approval' }> {
  requirePermission(principal, 'reconciliation.resolve');
  const requestedBy = requireNamedRequester(principal);
  if (input.reason.trim().length < 2) throw new AppError('validation_failed', 'reason: say why');
  return db.transaction().execute(async (trx) => {
    const found = await loadCase(trx, input.caseId);
    if (!ALLOWED[found.kind]!.includes(input.action))
      throw new AppError(
        'validation_failed',
        `action: ${input.action} does not resolve a ${found.kind} case (use ${ALLOWED[found.kind]!.join(', ')})`,
      );
    const inserted = await trx
      .insertInto('reconciliation_case_action')
      .values({
        case_id: input.caseId,
        action: input.action,
        reason: input.reason.trim(),
        requested_by: requestedBy,
      })
      .onConflict((conflict) => conflict.column('case_id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
      throw new AppError('case_already_resolved', `case ${input.caseId} already has a resolution`);
    await recordAudit(trx, principal, {
      action: 'reconciliation.case.request',
      objectType: 'reconciliation_case',
      objectId: String(input.caseId),
      details: { action: input.action, reason: input.reason.trim(), txnId: found.txn_id },
    });
    return { caseId: input.caseId, status: 'awaiting_approval' };
  });
}

/**
 * A second person approves a case resolution and it is carried out: the payment the channel has
 * and the utility lacks is posted (补销账) through the one posting path on the case's business
 * day, or the utility's payment is reversed by new entries. When the last case of the day's
 * submission is resolved, the day is accepted.
 * Errors: forbidden, not_found, same_person_approval, case_not_requested, case_already_resolved.
 */
export async function approveCaseResolution(
  db: Kysely<DB>,
  principal: Principal,
  clock: Clock,
  caseId: number,
): Promise<{ caseId: number; status: 'resolved'; receiptNo: string | null; dayAccepted: boolean }> {
  requirePermission(principal, 'reconciliation.resolve');
  return db.transaction().execute(async (trx) => {
    const found = await loadCase(trx, caseId);
    const action = await trx
      .selectFrom('reconciliation_case_action')
      .selectAll()
      .where('case_id', '=', caseId)
      .forUpdate()
      .executeTakeFirst();
    if (!action) throw new AppError('case_not_requested', `case ${caseId} has no proposed resolution`);
    if (action.approved_at) throw new AppError('case_already_resolved', `case ${caseId} is resolved`);
    requireSecondPerson(principal, 'reconciliation_case', { requestedBy: action.requested_by });
    const channel = await trx
      .selectFrom('channel')
      .select(['channel_code', 'name'])
      .where('channel_code', '=', found.channel_code)
      .executeTakeFirstOrThrow();
    const actor = channelPrincipal(channel.channel_code, channel.name);
    let receiptNo: string | null = null;
    const channelLine = found.channel_line as ChannelLine | null;
    if (action.action === 'post_missing' && channelLine) {
      const posted = await postPayment(trx, actor, {
        idempotencyKey: channelPaymentKey(found.channel_code, found.txn_id),
        customerNo: channelLine.customerNo,
        amountFen: fen(channelLine.amountFen),
        paidAt: clock.now(),
        businessDate: found.business_date as LocalDate,
        source: { kind: 'channel', channelCode: found.channel_code, txnId: found.txn_id },
      });
      receiptNo = posted.receiptNo;
    } else if (action.action === 'reverse') {
      const reversed = await reversePayment(trx, actor, {
        idempotencyKey: channelPaymentKey(found.channel_code, found.txn_id),
        reason: `对账差错处理 case ${caseId}: ${action.reason}`,
        businessDate: 'payment_day',
      });
      receiptNo = reversed.receiptNo;
    }
    await trx
      .updateTable('reconciliation_case_action')
      .set({ approved_by: principal.staffId, approved_at: clock.now(), receipt_no: receiptNo })
      .where('case_id', '=', caseId)
      .execute();
    const open = await sql<{ open: number }>`
      select count(*)::int as open from reconciliation_case c
      left join reconciliation_case_action a on a.case_id = c.case_id
      where c.channel_code = ${found.channel_code} and c.business_date = ${found.business_date}::date
        and c.submission_no = ${found.submission_no} and a.approved_at is null`.execute(trx);
    const dayAccepted = Number(open.rows[0]?.open ?? 0) === 0;
    if (dayAccepted)
      await trx
        .insertInto('channel_day_accepted')
        .values({
          channel_code: found.channel_code,
          business_date: found.business_date,
          submission_no: found.submission_no,
          accepted_at: clock.now(),
          how: 'cases_resolved',
        })
        .onConflict((conflict) => conflict.columns(['channel_code', 'business_date']).doNothing())
        .execute();
    await recordAudit(trx, principal, {
      action: 'reconciliation.case.approve',
      objectType: 'reconciliation_case',
      objectId: String(caseId),
      details: { action: action.action, receiptNo, requestedBy: action.requested_by, dayAccepted },
    });
    return { caseId, status: 'resolved', receiptNo, dayAccepted };
  });
}
