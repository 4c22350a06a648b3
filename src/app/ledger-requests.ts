import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import type { LedgerAccountCode, Posting } from '../domain/ledger/accounts.js';
import type { LocalDate } from '../domain/local-date.js';
import { type OpenBill, openBillsOf } from '../domain/ledger/customer-state.js';
import { type Fen, fen } from '../domain/money.js';
import { prepaidSources } from './apply-prepaid.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { heldBalance, loadCustomerStates } from './ledger/customer-state.js';
import { nextAllocationIds, nextEntryIds } from './ledger/ids.js';
import { writeJournalEntries } from './ledger/journal-writer.js';
import { enqueueNotification } from './notifications.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';
import { requireNamedRequester, requireSecondPerson } from './ledger/two-person-rule.js';

/**
 * Receivables actions that need two people: a late-fee waiver (违约金减免), a bad-debt write-off
 * (坏账核销) and a refund (退费) of prepaid balance or deposit. A request records what and why;
 * a second person approves (which posts) or rejects; an approved refund is then paid out.
 * Nothing is edited: requests, decisions, credits and entries are new rows.
 */
export type LedgerRequestKind = 'late_fee_waiver' | 'write_off' | 'refund';

export interface LedgerRequestInput {
  readonly kind: LedgerRequestKind;
  readonly customerNo: string;
  /** The bill (waivers and write-offs). */
  readonly billNo?: string;
  /** Waivers and write-offs default to all that is open on the bill; refunds must say. */
  readonly amountFen?: Fen;
  readonly refundFrom?: 'prepaid' | 'deposit';
  readonly reason: string;
  /** The day the amounts are judged on (late fees accrue by day). */
  readonly asOf: LocalDate;
}

export interface LedgerRequestView {
  readonly requestId: number;
  readonly customerNo: string;
  readonly kind: LedgerRequestKind;
  readonly billNo: string | null;
  readonly amountFen: Fen;
  readonly refundFrom: 'prepaid' | 'deposit' | null;
  readonly reason: string;
  readonly requestedBy: number | null;
  readonly status: 'requested' | 'approved' | 'rejected' | 'paid_out';
  /** What the approval moved (at most the amount asked for, what was still open). */
  readonly settledFen: Fen | null;
}

/** Errors: forbidden, not_found, validation_failed, nothing_to_settle, insufficient_balance. */
export async function requestLedgerAction(
  db: Kysely<DB>,
  principal: Principal,
  input: LedgerRequestInput,
): Promise<LedgerRequestView> {
  requirePermission(principal, 'ledger.request');
  const requestedBy = requireNamedRequester(principal);
  if (input.reason.trim().length < 2) throw new AppError('validation_failed', 'reason: say why');
  if (input.amountFen !== undefined && (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0))
    throw new AppError('validation_failed', 'amount: must be more than 0.00');
  return inTransaction(db, async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    await lockCustomer(trx, customer.customerId);
    let billId: number | null = null;
    let amount: number;
    if (input.kind === 'refund') {
      if (input.refundFrom !== 'prepaid' && input.refundFrom !== 'deposit')
        throw new AppError('validation_failed', 'refundFrom: prepaid or deposit');
      if (input.amountFen === undefined)
        throw new AppError('validation_failed', 'amount: required for a refund');
      if (input.billNo !== undefined) throw new AppError('validation_failed', 'billNo: not for a refund');
      const balance = await heldBalance(trx, customer.customerId, input.refundFrom);
      if (balance < input.amountFen)
        throw new AppError('insufficient_balance', `${input.refundFrom} balance is ${balance} fen`);
      amount = input.amountFen;
    } else {
      if (input.billNo === undefined) throw new AppError('validation_failed', 'billNo: required');
      if (input.refundFrom !== undefined)
        throw new AppError('validation_failed', 'refundFrom: only for a refund');
      const bill = await openBill(trx, customer.customerId, customer.category, input.billNo, input.asOf);
      billId = bill.billId;
      const open = input.kind === 'write_off' ? bill.openPrincipalFen : bill.lateFeeFen;
      if (open <= 0)
        throw new AppError('nothing_to_settle', `${input.billNo}: nothing open to ${input.kind}`);
      amount = Math.min(open, input.amountFen ?? open);
    }
    const id = await sql<{ id: number }>`select nextval('ledger_request_seq') as id`.execute(trx);
    const requestId = Number(id.rows[0]!.id);
    await trx
      .insertInto('ledger_request')
      .values({
        customer_id: customer.customerId,
        request_id: requestId,
        kind: input.kind,
        bill_id: billId,
        amount_fen: amount,
        refund_from: input.kind === 'refund' ? (input.refundFrom ?? null) : null,
        reason: input.reason.trim(),
        requested_by: requestedBy,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: `${input.kind}.request`,
      objectType: 'ledger_request',
      objectId: String(requestId),
      customerId: customer.customerId,
      details: {
        billNo: input.billNo ?? null,
        amountFen: amount,
        reason: input.reason.trim(),
        asOf: input.asOf,
      },
    });
    return getLedgerRequest(trx, principal, input.customerNo, requestId);
  });
}

/**
 * Approves or rejects a request; the requester cannot decide it. Approval posts: a write-off
 * moves the open principal (at most the amount asked) from receivable to bad-debt expense and
 * waives the late fee accrued on it; a waiver credits the late fee (late fees are posted when
 * paid, so a waiver moves no money); a refund moves the balance to refunds payable.
 * Errors: forbidden, not_found, same_person_approval, request_already_decided, nothing_to_settle,
 * insufficient_balance.
 */
export async function decideLedgerRequest(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly customerNo: string;
    readonly requestId: number;
    readonly decision: 'approve' | 'reject';
    readonly asOf: LocalDate;
    readonly note?: string;
  },
): Promise<LedgerRequestView> {
  requirePermission(principal, 'ledger.approve');
  return inTransaction(db, async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    await lockCustomer(trx, customer.customerId);
    const request = await trx
      .selectFrom('ledger_request')
      .selectAll()
      .where('customer_id', '=', customer.customerId)
      .where('request_id', '=', input.requestId)
      .executeTakeFirst();
    if (!request) throw new AppError('not_found', `no request ${input.requestId} for ${input.customerNo}`);
    const steps = await trx
      .selectFrom('ledger_request_step')
      .select('step')
      .where('customer_id', '=', customer.customerId)
      .where('request_id', '=', input.requestId)
      .execute();
    if (steps.length > 0)
      throw new AppError('request_already_decided', `request ${input.requestId}: ${steps[0]!.step}`);
    requireSecondPerson(principal, 'ledger_request', { requestedBy: request.requested_by });
    let entryId: number | null = null;
    let settled = 0;
    if (input.decision === 'approve') {
      if (request.kind === 'refund') {
        ({ entryId, settled } = await approveRefund(
          trx,
          customer.customerId,
          request,
          input.asOf,
          principal,
        ));
      } else {
        ({ entryId, settled } = await approveBillCredit(
          trx,
          customer.customerId,
          customer.category,
          request,
          input.asOf,
          principal,
        ));
      }
    }
    await trx
      .insertInto('ledger_request_step')
      .values({
        customer_id: customer.customerId,
        request_id: input.requestId,
        step: input.decision === 'approve' ? 'approved' : 'rejected',
        by_staff: principal.staffId,
        journal_entry_id: entryId,
        note: input.note ?? null,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: `${request.kind}.${input.decision}`,
      objectType: 'ledger_request',
      objectId: String(input.requestId),
      customerId: customer.customerId,
      details: {
        amountFen: request.amount_fen,
        settledFen: settled,
        journalEntryId: entryId,
        note: input.note ?? null,
      },
    });
    return getLedgerRequest(trx, principal, input.customerNo, input.requestId);
  });
}

/**
 * Pays out an approved refund: refunds payable against the bank (transfer) or the cashier's cash.
 * Errors: forbidden, not_found, request_not_approved, validation_failed.
 */
export async function payOutRefund(
  db: Kysely<DB>,
  principal: Principal,
  input: {
    readonly customerNo: string;
    readonly requestId: number;
    readonly method: 'bank_transfer' | 'cash';
    readonly bankAccount?: string;
    readonly paidOn: LocalDate;
  },
): Promise<LedgerRequestView> {
  requirePermission(principal, 'ledger.approve');
  if (input.method === 'bank_transfer' && !input.bankAccount)
    throw new AppError('validation_failed', 'bankAccount: required for a bank transfer');
  if (input.method === 'cash' && principal.staffId === null)
    throw new AppError('validation_failed', 'method: cash is paid out by a logged-in cashier');
  return inTransaction(db, async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    await lockCustomer(trx, customer.customerId);
    const view = await getLedgerRequest(trx, principal, input.customerNo, input.requestId);
    if (view.kind !== 'refund' || view.status !== 'approved')
      throw new AppError('request_not_approved', `request ${input.requestId} is ${view.status}`);
    const amount = view.settledFen ?? view.amountFen;
    const [entryId] = await nextEntryIds(trx, 1);
    const source: { account: LedgerAccountCode; subKey: string } =
      input.method === 'cash'
        ? { account: 'counter_cash', subKey: String(principal.staffId) }
        : { account: 'bank', subKey: input.bankAccount! };
    await writeEntry(
      trx,
      customer.customerId,
      entryId!,
      'refund_paid',
      input.paidOn,
      `refund:${input.requestId}`,
      principal,
      [
        { account: 'refunds_payable', amountFen: fen(amount), subKey: '' },
        { account: source.account, amountFen: fen(-amount), subKey: source.subKey },
      ],
    );
    await trx
      .insertInto('ledger_request_step')
      .values({
        customer_id: customer.customerId,
        request_id: input.requestId,
        step: 'paid_out',
        by_staff: principal.staffId,
        journal_entry_id: entryId!,
        note: input.method === 'cash' ? 'cash' : `bank ${input.bankAccount}`,
      })
      .execute();
    await enqueueNotification(trx, customer.customerId, 'refund_paid', String(input.requestId), {
      customerNo: input.customerNo,
      amountFen: amount,
      method: input.method,
      paidOn: input.paidOn,
    });
    await recordAudit(trx, principal, {
      action: 'refund.pay_out',
      objectType: 'ledger_request',
      objectId: String(input.requestId),
      customerId: customer.customerId,
      details: { amountFen: amount, method: input.method, bankAccount: input.bankAccount ?? null },
    });
    return getLedgerRequest(trx, principal, input.customerNo, input.requestId);
  });
}

export async function getLedgerRequest(
  db: Kysely<DB>,
  principal: Principal,
  customerNo: string,
  requestId: number,
): Promise<LedgerRequestView> {
  const customer = await customerInScope(db, principal, customerNo);
  const views = await listLedgerRequests(db, customer.customerId, customerNo, requestId);
  if (!views[0]) throw new AppError('not_found', `no request ${requestId} for ${customerNo}`);
  return views[0];
}

/** A customer's requests, newest first. */
export async function listLedgerRequests(
  db: Kysely<DB>,
  customerId: number,
  customerNo: string,
  requestId?: number,
): Promise<LedgerRequestView[]> {
  const rows = await sql<{
    request_id: number;
    kind: LedgerRequestKind;
    bill_no: string | null;
    amount_fen: number;
    refund_from: 'prepaid' | 'deposit' | null;
    reason: string;
    requested_by: number | null;
    steps: string[] | null;
    settled: number | null;
  }>`
    select q.request_id, q.kind, r.bill_no, q.amount_fen, q.refund_from, q.reason, q.requested_by,
      (select array_agg(s.step) from ledger_request_step s
       where s.customer_id = q.customer_id and s.request_id = q.request_id) as steps,
      coalesce(
        (select sum(k.amount_fen) from bill_credit k where k.customer_id = q.customer_id and k.request_id = q.request_id
           and k.kind = case q.kind when 'write_off' then 'write_off' else 'late_fee_waiver' end),
        (select -sum(p.amount_fen) from ledger_request_step s
         join posting p on p.customer_id = s.customer_id and p.journal_entry_id = s.journal_entry_id
         where s.customer_id = q.customer_id and s.request_id = q.request_id and s.step = 'approved'
           and p.ledger_account_code = 'refunds_payable')) as settled
    from ledger_request q
    left join bill_release r on r.customer_id = q.customer_id and r.bill_id = q.bill_id
    where q.customer_id = ${customerId}
      and (${requestId ?? null}::bigint is null or q.request_id = ${requestId ?? null}::bigint)
    order by q.request_id desc`.execute(db);
  return rows.rows.map((row) => {
    const steps = row.steps ?? [];
    const status = steps.includes('paid_out')
      ? 'paid_out'
      : steps.includes('approved')
        ? 'approved'
        : steps.includes('rejected')
          ? 'rejected'
          : 'requested';
    return {
      requestId: Number(row.request_id),
      customerNo,
      kind: row.kind,
      billNo: row.bill_no,
      amountFen: fen(Number(row.amount_fen)),
      refundFrom: row.refund_from,
      reason: row.reason,
      requestedBy: row.requested_by === null ? null : Number(row.requested_by),
      status,
      settledFen: row.settled === null ? null : fen(Number(row.settled)),
    };
  });
}

// ---------------------------------------------------------------------------------------------------

async function lockCustomer(trx: Kysely<DB>, customerId: number): Promise<void> {
  await sql`select pg_advisory_xact_lock(${customerId}::bigint)`.execute(trx);
}

async function openBill(
  trx: Kysely<DB>,
  customerId: number,
  category: string,
  billNo: string,
  asOf: LocalDate,
): Promise<OpenBill> {
  const release = await trx
    .selectFrom('bill_release')
    .select('bill_id')
    .where('customer_id', '=', customerId)
    .where('bill_no', '=', billNo)
    .executeTakeFirst();
  if (!release) throw new AppError('not_found', `no released bill ${billNo} for this customer`);
  const state = (await loadCustomerStates(trx, [customerId])).get(customerId)!;
  const bill = openBillsOf(state, category, asOf).find((open) => open.billId === Number(release.bill_id));
  if (!bill) throw new AppError('nothing_to_settle', `${billNo} is settled (or superseded by a rebill)`);
  return bill;
}

async function approveBillCredit(
  trx: Kysely<DB>,
  customerId: number,
  category: string,
  request: { request_id: number; kind: string; bill_id: number | null; amount_fen: number },
  asOf: LocalDate,
  principal: Principal,
): Promise<{ entryId: number | null; settled: number }> {
  const release = await trx
    .selectFrom('bill_release')
    .select('bill_no')
    .where('customer_id', '=', customerId)
    .where('bill_id', '=', request.bill_id!)
    .executeTakeFirstOrThrow();
  const bill = await openBill(trx, customerId, category, release.bill_no, asOf);
  const credits: { kind: 'write_off' | 'late_fee_waiver'; amount: number; entry: number | null }[] = [];
  let entryId: number | null = null;
  let settled: number;
  if (request.kind === 'write_off') {
    settled = Math.min(request.amount_fen, bill.openPrincipalFen);
    if (settled <= 0) throw new AppError('nothing_to_settle', `${release.bill_no}: no principal open`);
    [entryId] = (await nextEntryIds(trx, 1)) as [number];
    await writeEntry(
      trx,
      customerId,
      entryId,
      'write_off',
      asOf,
      `write-off:${request.request_id}`,
      principal,
      [
        { account: 'write_off_expense', amountFen: fen(settled), subKey: '' },
        { account: 'customer_receivable', amountFen: fen(-settled), subKey: '' },
      ],
    );
    credits.push({ kind: 'write_off', amount: settled, entry: entryId });
    // The late fee accrued on a written-off debt is not collected either.
    if (bill.lateFeeFen > 0) credits.push({ kind: 'late_fee_waiver', amount: bill.lateFeeFen, entry: null });
  } else {
    settled = Math.min(request.amount_fen, bill.lateFeeFen);
    if (settled <= 0) throw new AppError('nothing_to_settle', `${release.bill_no}: no late fee open`);
    credits.push({ kind: 'late_fee_waiver', amount: settled, entry: null });
  }
  const ids = await sql<{ id: number }>`
    select nextval('ledger_request_seq') as id from generate_series(1, ${credits.length})`.execute(trx);
  await trx
    .insertInto('bill_credit')
    .values(
      credits.map((credit, k) => ({
        customer_id: customerId,
        bill_credit_id: Number(ids.rows[k]!.id),
        bill_id: request.bill_id!,
        kind: credit.kind,
        amount_fen: credit.amount,
        effective_on: asOf,
        request_id: request.request_id,
        journal_entry_id: credit.entry,
      })),
    )
    .execute();
  await enqueueNotification(
    trx,
    customerId,
    request.kind === 'write_off' ? 'write_off' : 'late_fee_waived',
    String(request.request_id),
    { billNo: release.bill_no, amountFen: settled, on: asOf },
  );
  return { entryId, settled };
}

async function approveRefund(
  trx: Kysely<DB>,
  customerId: number,
  request: { request_id: number; amount_fen: number; refund_from: 'prepaid' | 'deposit' | null },
  asOf: LocalDate,
  principal: Principal,
): Promise<{ entryId: number; settled: number }> {
  const from = request.refund_from!;
  const balance = await heldBalance(trx, customerId, from);
  if (balance < request.amount_fen)
    throw new AppError('insufficient_balance', `${from} balance is ${balance} fen now`);
  const [entryId] = (await nextEntryIds(trx, 1)) as [number];
  await writeEntry(
    trx,
    customerId,
    entryId,
    'refund',
    asOf,
    `refund-approved:${request.request_id}`,
    principal,
    [
      {
        account: from === 'prepaid' ? 'customer_prepaid' : 'customer_deposit',
        amountFen: fen(request.amount_fen),
        subKey: '',
      },
      { account: 'refunds_payable', amountFen: fen(-request.amount_fen), subKey: '' },
    ],
  );
  if (from === 'prepaid') {
    // The refunded money leaves the payments that brought it, oldest first.
    const sources = (await prepaidSources(trx, [customerId])).get(customerId) ?? [];
    const rows: { payment_id: number; kind: 'prepaid' | 'refunded'; amount_fen: number }[] = [];
    let need = request.amount_fen;
    for (const source of sources) {
      if (need === 0) break;
      const take = Math.min(need, source.left);
      need -= take;
      rows.push({ payment_id: source.paymentId, kind: 'prepaid', amount_fen: -take });
      rows.push({ payment_id: source.paymentId, kind: 'refunded', amount_fen: take });
    }
    if (need !== 0) throw new Error(`customer ${customerId}: prepaid allocations short of the balance`);
    const ids = await nextAllocationIds(trx, rows.length);
    await trx
      .insertInto('allocation')
      .values(
        rows.map((row, k) => ({
          customer_id: customerId,
          allocation_id: ids[k]!,
          payment_id: row.payment_id,
          bill_id: null,
          kind: row.kind,
          amount_fen: row.amount_fen,
          journal_entry_id: entryId,
          applied_on: asOf,
        })),
      )
      .execute();
  }
  return { entryId, settled: request.amount_fen };
}

/** A receivables action's entry (source type = kind, source id = its key), through the journal writer. */
export async function writeEntry(
  trx: Kysely<DB>,
  customerId: number,
  entryId: number,
  kind: string,
  effectiveOn: LocalDate,
  key: string,
  principal: Principal,
  postings: readonly (Posting & { readonly subKey: string })[],
): Promise<void> {
  await writeJournalEntries(trx, [
    {
      customerId,
      journalEntryId: entryId,
      kind,
      effectiveOn,
      idempotencyKey: key,
      sourceType: kind,
      sourceId: key,
      createdBy: principal.staffId,
      postings,
    },
  ]);
}
