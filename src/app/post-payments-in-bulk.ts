import { type Kysely, sql } from 'kysely';
import { JOURNAL_ENTRY_COLUMNS, POSTING_COLUMNS, copyRows } from '../adapters/db/raw-commands.js';
import type { DB } from '../adapters/db/schema.js';
import { fen } from '../domain/money.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import {
  type PostPaymentInput,
  type PostedPayment,
  loadCustomerStates,
  paymentInputHash,
  planPayment,
  sourceKey,
} from './post-payment.js';
import { type Principal, requirePermission } from './principal.js';

export interface BulkPostResult {
  /** Payments posted by this call. */
  readonly posted: number;
  /** Inputs whose key had been posted before (same input): nothing new. */
  readonly replayed: number;
  /** Receipt number per idempotency key, for every input. */
  readonly receipts: ReadonlyMap<string, string>;
}

/**
 * Posts many payments (a bank's result file, a month of the demo county) by the same rule as
 * postPayment — planPayment allocates and builds the entry — in chunks of one transaction each:
 * keys claimed in one statement, the chunk's customers locked in id order, their state read in
 * one statement, every row written by COPY. Keys posted before are replays (a rerun after a
 * crash posts only what is missing); the same key with another input is refused.
 * Errors: forbidden, not_found, validation_failed, payment_key_conflict.
 */
export async function postPaymentsInBulk(
  db: Kysely<DB>,
  principal: Principal,
  inputs: readonly PostPaymentInput[],
  options: {
    readonly chunkSize?: number;
    /**
     * Chunks committed at once (PostgreSQL). Only for inputs where each customer appears once
     * (a bank file): a customer's payments in two chunks would otherwise race for its order.
     */
    readonly concurrency?: number;
    readonly onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<BulkPostResult> {
  requirePermission(principal, 'payment.post');
  const receipts = new Map<string, string>();
  let posted = 0;
  let replayed = 0;
  let done = 0;
  const chunkSize = options.chunkSize ?? 2000;
  const starts = Array.from({ length: Math.ceil(inputs.length / chunkSize) }, (_, k) => k * chunkSize);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const start = starts[next++];
      if (start === undefined) return;
      const chunk = inputs.slice(start, start + chunkSize);
      const result = await postChunk(db, principal, chunk);
      for (const [key, receipt] of result.receipts) receipts.set(key, receipt);
      posted += result.posted;
      replayed += result.replayed;
      done += chunk.length;
      options.onProgress?.(done, inputs.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker));
  return { posted, replayed, receipts };
}

async function postChunk(db: Kysely<DB>, principal: Principal, chunk: readonly PostPaymentInput[]) {
  const hashes = new Map<string, string>();
  const unique: PostPaymentInput[] = [];
  for (const input of chunk) {
    if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0)
      throw new AppError('validation_failed', `${input.idempotencyKey}: amount must be more than 0.00`);
    const hash = paymentInputHash(input);
    const earlier = hashes.get(input.idempotencyKey);
    if (earlier !== undefined) {
      if (earlier !== hash)
        throw new AppError(
          'payment_key_conflict',
          `${input.idempotencyKey} appears twice with different inputs`,
        );
      continue;
    }
    hashes.set(input.idempotencyKey, hash);
    unique.push(input);
  }
  return inTransaction(db, async (trx) => {
    const customerNos = [...new Set(unique.map((input) => input.customerNo))];
    const byNo = await customersInScope(trx, principal, customerNos);
    for (const customerNo of customerNos) {
      if (!byNo.has(customerNo)) throw new AppError('not_found', `customer ${customerNo} not found`);
    }
    const claimed = await claimKeys(
      trx,
      unique.map((input) => ({
        key: input.idempotencyKey,
        customerId: Number(byNo.get(input.customerNo)!.customer_id),
        inputHash: hashes.get(input.idempotencyKey)!,
      })),
    );
    const receipts = new Map<string, string>();
    const earlier = unique
      .filter((input) => !claimed.has(input.idempotencyKey))
      .map((input) => input.idempotencyKey);
    if (earlier.length > 0) {
      const existing = await sql<{ idempotency_key: string; input_hash: string; receipt_no: string }>`
        select k.idempotency_key, k.input_hash, p.receipt_no from payment_key k
        join payment p on p.customer_id = k.customer_id and p.payment_id = k.payment_id
        where k.idempotency_key = any(${earlier}::text[])`.execute(trx);
      for (const row of existing.rows) {
        if (row.input_hash !== hashes.get(row.idempotency_key))
          throw new AppError(
            'payment_key_conflict',
            `${row.idempotency_key} was already used for another customer or amount`,
          );
        receipts.set(row.idempotency_key, row.receipt_no);
      }
    }
    const fresh = unique.filter((input) => claimed.has(input.idempotencyKey));
    if (fresh.length === 0) return { posted: 0, replayed: receipts.size, receipts };

    const written = await planAndWrite(
      trx,
      principal,
      fresh.map((input) => {
        const customer = byNo.get(input.customerNo)!;
        return {
          input,
          customerId: Number(customer.customer_id),
          customerNo: customer.customer_no,
          category: customer.category,
          paymentId: claimed.get(input.idempotencyKey)!,
          inputHash: hashes.get(input.idempotencyKey)!,
        };
      }),
    );
    for (const [key, payment] of written) receipts.set(key, payment.receiptNo);
    return { posted: fresh.length, replayed: unique.length - fresh.length, receipts };
  });
}

/** A payment whose key this transaction has claimed, ready to be planned and written. */
export interface ClaimedPayment {
  readonly input: PostPaymentInput;
  readonly customerId: number;
  readonly customerNo: string;
  readonly category: string;
  readonly paymentId: number;
  readonly inputHash: string;
}

/**
 * Locks the customers (id order), reads their state in one statement, plans every payment by the
 * one rule in input order (a customer's later payment sees the earlier one) and writes all rows
 * by COPY. Runs inside the caller's transaction, after the keys were claimed.
 */
export async function planAndWrite(
  trx: Kysely<DB>,
  principal: Principal,
  items: readonly ClaimedPayment[],
): Promise<Map<string, PostedPayment>> {
  const customerIds = [...new Set(items.map((item) => item.customerId))].sort((a, b) => a - b);
  // The same per-customer lock as postPayment, taken in id order so that chunks never deadlock.
  await sql`select count(pg_advisory_xact_lock(id)) from (select unnest(${customerIds}::bigint[]) as id order by 1) ids`.execute(
    trx,
  );
  const stateOf = await loadCustomerStates(trx, customerIds);

  const entries: unknown[][] = [];
  const postings: unknown[][] = [];
  const payments: unknown[][] = [];
  const allocations: unknown[][] = [];
  const audits: unknown[][] = [];
  const notices: unknown[][] = [];
  const results = new Map<string, PostedPayment>();
  for (const { input, customerId, customerNo, category, paymentId, inputHash } of items) {
    const state = stateOf.get(customerId)!;
    const plan = planPayment(input, { paymentId, customerId, category, state, inputHash });
    results.set(input.idempotencyKey, {
      paymentId,
      customerId,
      receiptNo: plan.receiptNo,
      customerNo,
      amountFen: input.amountFen,
      allocations: plan.allocations,
      prepaidFen: plan.prepaidFen,
      prepaidBalanceFen: fen(state.prepaidFen + plan.prepaidFen),
      replayed: false,
    });
    // Later payments of the same customer in this chunk see this one's allocations.
    stateOf.set(customerId, {
      ...state,
      paid: [
        ...state.paid,
        ...plan.allocationRows
          .filter((row) => row.bill_id !== null)
          .map((row) => ({
            bill_id: row.bill_id!,
            kind: row.kind,
            amount_fen: row.amount_fen,
            business_date: input.businessDate,
          })),
      ],
      prepaidFen: fen(state.prepaidFen + plan.prepaidFen),
    });
    const key = sourceKey(input.source);
    entries.push([
      customerId,
      plan.entryId,
      'payment',
      input.businessDate,
      `payment:${input.idempotencyKey}`,
      input.source.kind,
      key,
      plan.receiptNo,
      principal.staffId,
    ]);
    for (const row of plan.postingRows)
      postings.push([
        customerId,
        plan.entryId,
        row.line_no,
        row.ledger_account_code,
        row.sub_key,
        row.amount_fen,
      ]);
    payments.push([
      customerId,
      paymentId,
      input.idempotencyKey,
      inputHash,
      input.source.kind === 'channel' ? input.source.channelCode : input.source.kind,
      input.source.kind === 'channel' ? input.source.txnId : null,
      input.amountFen,
      input.paidAt.toISOString(),
      input.businessDate,
      principal.staffId,
      plan.receiptNo,
      plan.entryId,
    ]);
    for (const row of plan.allocationRows)
      allocations.push([
        customerId,
        row.allocation_id,
        paymentId,
        row.bill_id,
        row.kind,
        row.amount_fen,
        plan.entryId,
      ]);
    notices.push([customerId, paymentId, 'payment_receipt', plan.receiptNo, JSON.stringify(plan.notice)]);
    audits.push([
      principal.kind,
      principal.kind === 'staff' ? String(principal.staffId) : principal.login,
      'payment.post',
      'payment',
      plan.receiptNo,
      customerId,
      principal.orgUnitId,
      JSON.stringify(plan.audit),
    ]);
  }
  await copyRows(trx, 'journal_entry', JOURNAL_ENTRY_COLUMNS, entries);
  await copyRows(trx, 'posting', POSTING_COLUMNS, postings);
  await copyRows(
    trx,
    'payment',
    [
      'customer_id',
      'payment_id',
      'idempotency_key',
      'input_hash',
      'channel_code',
      'channel_txn_id',
      'amount_fen',
      'paid_at',
      'business_date',
      'operator_staff_id',
      'receipt_no',
      'journal_entry_id',
    ],
    payments,
  );
  await copyRows(
    trx,
    'allocation',
    ['customer_id', 'allocation_id', 'payment_id', 'bill_id', 'kind', 'amount_fen', 'journal_entry_id'],
    allocations,
  );
  await copyRows(
    trx,
    'notification_outbox',
    ['customer_id', 'notification_id', 'kind', 'object_id', 'payload'],
    notices,
  );
  await copyRows(
    trx,
    'audit_log',
    ['actor_kind', 'actor_id', 'action', 'object_type', 'object_id', 'customer_id', 'org_unit_id', 'details'],
    audits,
  );
  return results;
}

/**
 * Claims idempotency keys in one statement, each with a new payment id; returns the claimed ones
 * (a key posted before, or being posted by another transaction that then commits, is left out).
 */
export async function claimKeys(
  trx: Kysely<DB>,
  keys: readonly { readonly key: string; readonly customerId: number; readonly inputHash: string }[],
): Promise<Map<string, number>> {
  const claims = await sql<{ idempotency_key: string; payment_id: number }>`
    insert into payment_key (idempotency_key, customer_id, payment_id, input_hash)
    select x.k, x.c, nextval('payment_id_seq'), x.h
    from jsonb_to_recordset(${JSON.stringify(keys.map((row) => ({ k: row.key, c: row.customerId, h: row.inputHash })))}::jsonb)
      as x(k text, c bigint, h text)
    on conflict (idempotency_key) do nothing
    returning idempotency_key, payment_id`.execute(trx);
  return new Map(claims.rows.map((row) => [row.idempotency_key, Number(row.payment_id)]));
}

/** Customers by customer number, only those in the principal's scope (others look absent). */
export async function customersInScope(
  trx: Kysely<DB>,
  principal: Principal,
  customerNos: readonly string[],
): Promise<Map<string, { customer_no: string; customer_id: number; category: string }>> {
  const customers = await sql<{ customer_no: string; customer_id: number; category: string; path: string }>`
    select n.customer_no, cu.customer_id, cu.category, o.path from customer_number n
    join customer cu on cu.customer_id = n.customer_id
    join org_unit o on o.org_unit_id = cu.station_id
    where n.customer_no = any(${customerNos}::text[])`.execute(trx);
  return new Map(
    customers.rows
      .filter((row) => row.path.startsWith(principal.scopePath))
      .map((row) => [row.customer_no, row]),
  );
}
