import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { fen } from '../domain/money.js';
import { AppError } from './errors.js';
import { GENERIC_PLAN_MODE, inTransaction } from './in-transaction.js';
import {
  type PostPaymentInput,
  type PostedPayment,
  addPaymentRows,
  emptyPaymentRows,
  paymentInputHash,
  planPayment,
  writePaymentRows,
} from './post-payment.js';
import { type Principal, requirePermission } from './principal.js';
import { loadCustomerStates } from './ledger/customer-state.js';
import { inScopeOfColumnSql, isInScope } from './ledger/scope.js';

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
 * keys claimed and the chunk's customers locked (in id order) in one statement, their state read
 * in another, every row written by writePaymentRows (COPY for a large chunk). Keys posted before
 * are replays (a rerun after a crash posts only what is missing); the same key with another input
 * is refused.
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
    const { customers: byNo, claimed } = await claimPayments(
      trx,
      unique.map((input) => ({
        key: input.idempotencyKey,
        customerNo: input.customerNo,
        inputHash: hashes.get(input.idempotencyKey)!,
        scopePath: principal.scopePath,
      })),
      'custom',
    );
    for (const input of unique) {
      const customer = byNo.get(input.customerNo);
      if (!customer || !isInScope(principal, customer.path))
        throw new AppError('not_found', `customer ${input.customerNo} not found`);
    }
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
      fresh.map((input) => {
        const customer = byNo.get(input.customerNo)!;
        return {
          principal,
          input,
          customerId: customer.customer_id,
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
  /** Who posts it: the operator and the actor of its audit entry. */
  readonly principal: Principal;
  readonly input: PostPaymentInput;
  readonly customerId: number;
  readonly customerNo: string;
  readonly category: string;
  readonly paymentId: number;
  readonly inputHash: string;
}

/**
 * Reads the state of customers this transaction has locked (see claimPayments), plans every
 * payment by the one rule in input order (a customer's later payment sees the earlier one) and
 * writes all rows (writePaymentRows). Runs inside the caller's transaction, after the keys were
 * claimed.
 */
export async function planAndWrite(
  trx: Kysely<DB>,
  items: readonly ClaimedPayment[],
): Promise<Map<string, PostedPayment>> {
  const customerIds = [...new Set(items.map((item) => item.customerId))];
  const stateOf = await loadCustomerStates(trx, customerIds);
  const rows = emptyPaymentRows();
  const results = new Map<string, PostedPayment>();
  for (const item of items) {
    const { input, customerId, customerNo, category, paymentId, inputHash } = item;
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
    addPaymentRows(rows, item.principal, item, plan);
  }
  await writePaymentRows(trx, rows);
  return results;
}

/** The customers a claim found, by number, with their station's path. */
export type FoundCustomers = Map<
  string,
  { customer_no: string; customer_id: number; category: string; path: string }
>;

/**
 * Claims idempotency keys and locks their customers in one statement. Each key whose customer
 * is in the item's scope (`scopePath`, the poster's org subtree) gets a new payment id (in the
 * items' order) unless it was claimed before (a key being claimed by another transaction waits
 * for it: then it is left out, a replay). Keys are claimed in key order and customers locked in
 * id order, after all claims, so two transactions never wait for each other in a cycle. Returns
 * every customer found, in scope or not (check with isInScope).
 */
export async function claimPayments(
  trx: Kysely<DB>,
  items: readonly {
    readonly key: string;
    readonly customerNo: string;
    readonly inputHash: string;
    readonly scopePath: string;
  }[],
  /** Generic plans for the rest of the transaction (single payments and batches), or the planner's choice (bulk chunks). */
  plans: 'generic' | 'custom',
): Promise<{ readonly customers: FoundCustomers; readonly claimed: Map<string, number> }> {
  const result = await sql<{
    customers: { customer_no: string; customer_id: number; category: string; path: string }[] | null;
    claims: { k: string; p: number }[] | null;
  }>`
    with c as (
      select n.customer_no, cu.customer_id, cu.category, o.path
      from customer_number n
      join customer cu on cu.customer_id = n.customer_id
      join org_unit o on o.org_unit_id = cu.station_id
      where n.customer_no = any(${[...new Set(items.map((item) => item.customerNo))]}::text[])
    ), claim as (
      insert into payment_key (idempotency_key, customer_id, payment_id, input_hash)
      select y.k, y.customer_id, y.payment_id, y.h from (
        select x.k, x.h, c.customer_id, nextval('payment_id_seq') as payment_id
        from rows from (json_to_recordset(${JSON.stringify(items.map((item) => ({ k: item.key, n: item.customerNo, h: item.inputHash, s: item.scopePath })))}::json)
          as (k text, n text, h text, s text)) with ordinality as x(k, n, h, s, ord)
        join c on c.customer_no = x.n and ${inScopeOfColumnSql('c.path', 'x.s')}
        order by x.ord) y
      order by y.k
      on conflict (idempotency_key) do nothing
      returning idempotency_key, payment_id, customer_id
    ), locked as (
      select count(pg_advisory_xact_lock(s.customer_id)) as n
      from (select distinct customer_id from claim order by 1) s
    )
    select (select json_agg(c) from c) as customers,
      (select json_agg(json_build_object('k', idempotency_key, 'p', payment_id)) from claim) as claims,
      (select n from locked) as locked,
      set_config('plan_cache_mode', coalesce(${plans === 'generic' ? GENERIC_PLAN_MODE : null}::text,
        current_setting('plan_cache_mode')), true) as plan_mode`.execute(trx);
  const row = result.rows[0]!;
  return {
    customers: new Map(
      (row.customers ?? []).map((customer) => [
        customer.customer_no,
        { ...customer, customer_id: Number(customer.customer_id) },
      ]),
    ),
    claimed: new Map((row.claims ?? []).map((claim) => [claim.k, Number(claim.p)])),
  };
}
