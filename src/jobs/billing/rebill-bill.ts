import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { customerInScope } from '../../app/customer-in-scope.js';
import { AppError } from '../../app/errors.js';
import { type Principal, requirePermission } from '../../app/principal.js';
import { applyPrepaidBalances } from '../../app/apply-prepaid.js';
import { nextAllocationIds, nextEntryIds, rebillReversalEntryId } from '../../app/ledger/ids.js';
import { writeJournalEntries } from '../../app/ledger/journal-writer.js';
import { recordAudit } from '../../app/record-audit.js';
import { billId, billNo, dueDate, periodEnd, periodStart } from '../../domain/billing/bill-identity.js';
import type { LedgerAccountCode } from '../../domain/ledger/accounts.js';
import { billReleaseEntry } from '../../domain/ledger/bill-release-entry.js';
import { type LocalDate, type Period, addMonths } from '../../domain/local-date.js';
import { fen } from '../../domain/money.js';
import { loadBillingFacts } from './load-billing-facts.js';
import { billCustomer, loadTariffVersions } from './run-billing.js';
import { DEFAULT_READ_RULES } from '../../domain/billing/read-rules.js';
import { requireNamedRequester, requireSecondPerson } from '../../app/ledger/two-person-rule.js';

/**
 * Asks for a rebill (退补) of a customer's released bill for a period, with the reason.
 * Errors: forbidden, not_found, bill_not_released, rebill_pending.
 */
export async function requestRebill(
  db: Kysely<DB>,
  principal: Principal,
  input: { readonly customerNo: string; readonly period: Period; readonly reason: string },
): Promise<{ rebillRequestId: number; billId: number }> {
  requirePermission(principal, 'billing.rebill_request');
  const requestedBy = requireNamedRequester(principal);
  if (input.reason.trim().length < 4)
    throw new AppError('validation_failed', 'reason: say why the bill is wrong (at least 4 characters)');
  return db.transaction().execute(async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    const bill = await latestBill(trx, customer.customerId, input.period);
    const released = await trx
      .selectFrom('bill_release')
      .select('bill_no')
      .where('customer_id', '=', customer.customerId)
      .where('bill_id', '=', bill.bill_id)
      .executeTakeFirst();
    if (!released)
      throw new AppError('bill_not_released', `the ${input.period} bill of ${input.customerNo} is a draft`);
    const pending = await sql<{ n: number }>`
      select count(*)::int as n from rebill_request q
      where q.customer_id = ${customer.customerId} and q.bill_id = ${bill.bill_id}
        and not exists (select 1 from rebill_approval a where a.customer_id = q.customer_id and a.rebill_request_id = q.rebill_request_id)`.execute(
      trx,
    );
    if (Number(pending.rows[0]!.n) > 0)
      throw new AppError('rebill_pending', `a rebill of ${released.bill_no} is waiting for approval`);
    const next = await sql<{
      id: number;
    }>`select coalesce(max(rebill_request_id), 0) + 1 as id from rebill_request where customer_id = ${customer.customerId}`.execute(
      trx,
    );
    const rebillRequestId = Number(next.rows[0]!.id);
    await trx
      .insertInto('rebill_request')
      .values({
        customer_id: customer.customerId,
        rebill_request_id: rebillRequestId,
        bill_id: bill.bill_id,
        reason: input.reason.trim(),
        requested_by: requestedBy,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: 'bill.rebill_request',
      objectType: 'bill',
      objectId: released.bill_no,
      customerId: customer.customerId,
      details: { rebillRequestId, reason: input.reason.trim() },
    });
    return { rebillRequestId, billId: bill.bill_id };
  });
}

/**
 * A second person approves a rebill: the original release entry is reversed by a new entry
 * referencing it, the bill is computed again from the current reads (corrections supersede the
 * old ones), and the next revision is issued and released; both bills are kept.
 * Errors: forbidden, not_found, same_person_approval, rebill_already_approved, bill_superseded,
 * rebill_reads_held.
 */
export async function approveRebill(
  db: Kysely<DB>,
  principal: Principal,
  input: { readonly customerNo: string; readonly rebillRequestId: number; readonly releasedOn: LocalDate },
): Promise<{ oldBillNo: string; newBillNo: string; oldAmountFen: number; newAmountFen: number }> {
  requirePermission(principal, 'billing.approve');
  const versions = await loadTariffVersions(db);
  return db.transaction().execute(async (trx) => {
    const customer = await customerInScope(trx, principal, input.customerNo);
    const customerId = customer.customerId;
    // The same per-customer lock as payments: a payment never allocates to a bill being replaced.
    await sql`select pg_advisory_xact_lock(${customerId}::bigint)`.execute(trx);
    const request = await trx
      .selectFrom('rebill_request')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('rebill_request_id', '=', input.rebillRequestId)
      .executeTakeFirst();
    if (!request)
      throw new AppError('not_found', `no rebill request ${input.rebillRequestId} for ${input.customerNo}`);
    requireSecondPerson(principal, 'rebill', { requestedBy: request.requested_by });
    const approved = await trx
      .selectFrom('rebill_approval')
      .select('new_bill_id')
      .where('customer_id', '=', customerId)
      .where('rebill_request_id', '=', input.rebillRequestId)
      .executeTakeFirst();
    if (approved)
      throw new AppError('rebill_already_approved', `request ${input.rebillRequestId} was approved already`);
    const old = await trx
      .selectFrom('bill')
      .selectAll()
      .where('customer_id', '=', customerId)
      .where('bill_id', '=', request.bill_id)
      .executeTakeFirstOrThrow();
    const period = old.period as Period;
    const latest = await latestBill(trx, customerId, period);
    if (latest.bill_id !== old.bill_id)
      throw new AppError('bill_superseded', `revision ${latest.revision} of ${period} exists`);
    const oldRelease = await trx
      .selectFrom('bill_release')
      .select('bill_no')
      .where('customer_id', '=', customerId)
      .where('bill_id', '=', old.bill_id)
      .executeTakeFirstOrThrow();
    const writtenOff = await trx
      .selectFrom('bill_credit')
      .select('bill_credit_id')
      .where('customer_id', '=', customerId)
      .where('bill_id', '=', old.bill_id)
      .where('kind', '=', 'write_off')
      .executeTakeFirst();
    if (writtenOff)
      throw new AppError('bill_written_off', `${oldRelease.bill_no} was written off; it is not rebilled`);

    // 1. Reverse the original release entry, if it posted anything.
    const original = await trx
      .selectFrom('posting')
      .select(['line_no', 'ledger_account_code', 'sub_key', 'amount_fen'])
      .where('customer_id', '=', customerId)
      .where('journal_entry_id', '=', old.bill_id)
      .orderBy('line_no')
      .execute();
    let reversalEntryId: number | null = null;
    if (original.length > 0) {
      reversalEntryId = rebillReversalEntryId(old.bill_id);
      await writeJournalEntries(trx, [
        {
          customerId,
          journalEntryId: reversalEntryId,
          kind: 'bill_reversal',
          effectiveOn: input.releasedOn,
          reversesEntryId: old.bill_id,
          idempotencyKey: `bill-reversal:${old.bill_id}`,
          sourceType: 'rebill_request',
          sourceId: String(input.rebillRequestId),
          memo: request.reason,
          createdBy: principal.staffId,
          postings: original.map((posting) => ({
            account: posting.ledger_account_code as LedgerAccountCode,
            subKey: posting.sub_key,
            amountFen: -posting.amount_fen,
          })),
        },
      ]);
    }

    // 2. Compute the bill again from today's reads and rules.
    const facts = await loadBillingFacts(
      trx,
      { low: customerId, high: customerId },
      period,
      periodStart(period),
      periodEnd(period),
      addMonths(period, -13),
      undefined,
      { includeBilled: true },
    );
    const runKey = `rebill:${customerId}:${input.rebillRequestId}`;
    const outcome = facts.customers[0]
      ? billCustomer(facts.customers[0], facts, {
          runKey,
          period,
          stationId: undefined,
          range: { low: customerId, high: customerId },
          versions,
          rules: DEFAULT_READ_RULES,
        })
      : null;
    if (outcome?.kind !== 'billed') {
      const reasons = outcome
        ? outcome.exceptions
            .filter((found) => found.severity === 'hold')
            .map((found) => found.code)
            .join(', ')
        : 'customer not due in the period';
      throw new AppError(
        'rebill_reads_held',
        `${input.customerNo} ${period}: ${outcome?.kind === 'failed' ? outcome.reason : reasons}`,
      );
    }
    const revision = old.revision + 1;
    const newBillId = billId(period, revision);
    const built = outcome.bill;
    await trx
      .insertInto('bill')
      .values({
        customer_id: customerId,
        bill_id: newBillId,
        period,
        revision,
        replaces_bill_id: old.bill_id,
        billing_run_key: runKey,
        tariff_version_id: built.tariffVersionIds[0] ?? null,
        kwh_total: built.totalKwh.toString(),
        amount_fen: built.totalFen,
        funds_fen: built.fundsFen,
        inputs: JSON.stringify(built.inputs),
      })
      .execute();
    await trx
      .insertInto('bill_line')
      .values(
        built.lines.map((line, k) => ({
          customer_id: customerId,
          bill_id: newBillId,
          line_no: k + 1,
          code: line.code,
          kwh: line.kwh?.toString() ?? null,
          price: line.price?.toString() ?? null,
          amount_fen: line.amountFen,
        })),
      )
      .execute();

    // 3. Release the new revision at once: it replaces a bill the customer already had.
    const newBillNo = billNo(period, customer.customerNo, revision);
    await trx
      .insertInto('bill_release')
      .values({
        customer_id: customerId,
        bill_id: newBillId,
        bill_no: newBillNo,
        released_on: input.releasedOn,
        due_on: dueDate(customer.dueRule, period, input.releasedOn),
        released_by: principal.staffId,
      })
      .execute();
    const entry = billReleaseEntry({
      billId: newBillId,
      amountFen: built.totalFen,
      fundsFen: built.fundsFen,
    });
    if (entry)
      await writeJournalEntries(trx, [
        {
          customerId,
          journalEntryId: entry.journalEntryId,
          kind: 'bill_release',
          effectiveOn: input.releasedOn,
          idempotencyKey: `bill-release:${newBillId}`,
          sourceType: 'bill',
          sourceId: String(newBillId),
          memo: newBillNo,
          createdBy: principal.staffId,
          postings: entry.postings,
        },
      ]);
    // 4. What was paid on the old revision now settles the new one; any excess becomes prepaid.
    const transferred = await transferSettlements(trx, {
      customerId,
      oldBillId: old.bill_id,
      newBillId,
      newAmountFen: built.totalFen,
      on: input.releasedOn,
      staffId: principal.staffId,
    });
    // 5. A prepaid balance settles whatever the new revision leaves open, as at any release.
    await applyPrepaidBalances(trx, [customerId], input.releasedOn, principal.staffId);
    await trx
      .insertInto('rebill_approval')
      .values({
        customer_id: customerId,
        rebill_request_id: input.rebillRequestId,
        approved_by: principal.staffId!,
        reversal_entry_id: reversalEntryId,
        new_bill_id: newBillId,
      })
      .execute();
    await recordAudit(trx, principal, {
      action: 'bill.rebill',
      objectType: 'bill',
      objectId: oldRelease.bill_no,
      customerId,
      details: {
        rebillRequestId: input.rebillRequestId,
        reason: request.reason,
        requestedBy: request.requested_by,
        newBillNo,
        oldAmountFen: old.amount_fen,
        newAmountFen: built.totalFen,
        movedToNewFen: transferred.movedFen,
        excessToPrepaidFen: transferred.excessFen,
      },
    });
    return {
      oldBillNo: oldRelease.bill_no,
      newBillNo,
      oldAmountFen: old.amount_fen,
      newAmountFen: fen(built.totalFen),
    };
  });
}

async function latestBill(trx: Transaction<DB>, customerId: number, period: string) {
  const bill = await trx
    .selectFrom('bill')
    .select(['bill_id', 'revision'])
    .where('customer_id', '=', customerId)
    .where('period', '=', period)
    .orderBy('revision', 'desc')
    .executeTakeFirst();
  if (!bill) throw new AppError('not_found', `no bill for ${period}`);
  return bill;
}

/**
 * Moves what settled the old revision of a bill to the new one: each payment's principal (up to
 * the new amount, oldest payment first) and late fee, keeping the dates they were paid (late fees
 * accrue as before); principal beyond the new amount becomes the payment's prepaid money (a
 * receivable-to-prepaid entry). Late-fee waivers on the old revision carry over. The old
 * revision's allocations are undone by negative rows, so every payment still sums to its amount.
 */
async function transferSettlements(
  trx: Transaction<DB>,
  input: {
    readonly customerId: number;
    readonly oldBillId: number;
    readonly newBillId: number;
    readonly newAmountFen: number;
    readonly on: LocalDate;
    readonly staffId: number | null;
  },
): Promise<{ movedFen: number; excessFen: number }> {
  const { customerId } = input;
  const paid = await sql<{
    payment_id: number;
    kind: 'principal' | 'late_fee';
    on_date: string;
    amount: number;
  }>`
    select a.payment_id, a.kind, coalesce(a.applied_on, y.business_date)::text as on_date, sum(a.amount_fen)::bigint as amount
    from allocation a join payment y on y.customer_id = a.customer_id and y.payment_id = a.payment_id
    where a.customer_id = ${customerId} and a.bill_id = ${input.oldBillId}
    group by a.payment_id, a.kind, coalesce(a.applied_on, y.business_date)
    having sum(a.amount_fen) <> 0
    order by a.payment_id, 3, a.kind`.execute(trx);
  const waivers = await trx
    .selectFrom('bill_credit')
    .selectAll()
    .where('customer_id', '=', customerId)
    .where('bill_id', '=', input.oldBillId)
    .where('kind', '=', 'late_fee_waiver')
    .execute();
  if (paid.rows.length === 0 && waivers.length === 0) return { movedFen: 0, excessFen: 0 };
  let room = input.newAmountFen;
  let moved = 0;
  let excess = 0;
  const rows: {
    payment_id: number;
    bill_id: number | null;
    kind: 'principal' | 'late_fee' | 'prepaid';
    amount_fen: number;
    applied_on: string;
  }[] = [];
  for (const row of paid.rows) {
    const amount = Number(row.amount);
    rows.push({
      payment_id: row.payment_id,
      bill_id: input.oldBillId,
      kind: row.kind,
      amount_fen: -amount,
      applied_on: row.on_date,
    });
    if (row.kind === 'late_fee') {
      rows.push({
        payment_id: row.payment_id,
        bill_id: input.newBillId,
        kind: 'late_fee',
        amount_fen: amount,
        applied_on: row.on_date,
      });
      continue;
    }
    const keep = Math.max(0, Math.min(amount, room));
    room -= keep;
    moved += keep;
    if (keep > 0)
      rows.push({
        payment_id: row.payment_id,
        bill_id: input.newBillId,
        kind: 'principal',
        amount_fen: keep,
        applied_on: row.on_date,
      });
    if (amount - keep > 0) {
      excess += amount - keep;
      rows.push({
        payment_id: row.payment_id,
        bill_id: null,
        kind: 'prepaid',
        amount_fen: amount - keep,
        applied_on: input.on,
      });
    }
  }
  const [entryId] = await nextEntryIds(trx, 1);
  await writeJournalEntries(trx, [
    {
      customerId,
      journalEntryId: entryId!,
      kind: 'rebill_transfer',
      effectiveOn: input.on,
      idempotencyKey: `rebill-transfer:${input.newBillId}`,
      sourceType: 'bill',
      sourceId: String(input.newBillId),
      createdBy: input.staffId,
      postings:
        excess > 0
          ? [
              { account: 'customer_receivable', amountFen: excess },
              { account: 'customer_prepaid', amountFen: -excess },
            ]
          : [],
    },
  ]);
  if (rows.length > 0) {
    const ids = await nextAllocationIds(trx, rows.length);
    await trx
      .insertInto('allocation')
      .values(
        rows.map((row, k) => ({
          ...row,
          customer_id: customerId,
          allocation_id: ids[k]!,
          journal_entry_id: entryId!,
        })),
      )
      .execute();
  }
  if (waivers.length > 0) {
    const ids = await sql<{ id: number }>`
      select nextval('ledger_request_seq') as id from generate_series(1, ${waivers.length})`.execute(trx);
    await trx
      .insertInto('bill_credit')
      .values(
        waivers.map((waiver, k) => ({
          customer_id: customerId,
          bill_credit_id: Number(ids.rows[k]!.id),
          bill_id: input.newBillId,
          kind: 'late_fee_waiver' as const,
          amount_fen: waiver.amount_fen,
          effective_on: waiver.effective_on,
          request_id: waiver.request_id,
          journal_entry_id: null,
        })),
      )
      .execute();
  }
  return { movedFen: moved, excessFen: excess };
}
