import { type Kysely, sql } from 'kysely';
import { NONCE_WINDOW_SECONDS } from './request-signature.js';
import type { DB } from '../db/schema.js';
import { lockChannelDay } from './channel-collection.js';
import { recordNonce } from './channel-directory.js';
import { AppError } from './errors.js';
import { type ClaimedPayment, claimPayments, planAndWrite } from './post-payments-in-bulk.js';
import { type PostPaymentInput, type PostedPayment, paymentInputHash, postPayment } from './post-payment.js';
import { type Principal, requirePermission } from './principal.js';
import { isInScope } from './ledger/scope.js';

/** One payment request, by whom, with the checks its channel needs (see postPayment's options). */
export interface BatchItem {
  readonly principal: Principal;
  readonly input: PostPaymentInput;
  readonly channelDay?: { readonly channelCode: string; readonly businessDate: string };
  readonly requestNonce?: { readonly key: string; readonly at: Date; readonly windowStart: Date };
}

/**
 * Posts concurrent payment requests in one transaction and one durable commit (group commit in
 * the application): the same checks and results as postPayment, item by item, each by its own
 * principal (channels, cashiers). Items that cannot go in the batch get their own answer: a
 * missing permission, an unknown customer, a reused nonce or a closed day is refused; a key
 * posted before (a retry) is answered by postPayment's replay. If the batch's transaction fails
 * as a whole, every item is posted alone.
 */
export async function postPaymentBatch(
  db: Kysely<DB>,
  items: readonly BatchItem[],
): Promise<(PostedPayment | Error)[]> {
  const together = await postTogether(db, items).catch(() => undefined);
  if (together) return together;
  // The batch's transaction failed (an item the database refused, a deadlock): nothing of it was
  // written, so each item goes alone and only a failing one fails.
  const alone: (PostedPayment | Error)[] = [];
  for (const item of items) alone.push(await postAlone(db, item, true));
  return alone;
}

/**
 * One item by the single path. With its nonce: recorded in the payment's transaction, or after
 * it when the payment fails, as a batch records the nonce of every item it refuses (a nonce used
 * before then wins over the payment's own error).
 */
async function postAlone(
  db: Kysely<DB>,
  item: BatchItem,
  withNonce: boolean,
): Promise<PostedPayment | Error> {
  const nonce = withNonce ? item.requestNonce : undefined;
  const answer = await postPayment(db, item.principal, item.input, {
    ...(item.channelDay ? { channelDay: item.channelDay } : {}),
    ...(nonce ? { requestNonce: nonce } : {}),
  }).catch((error: Error) => error);
  if (
    nonce &&
    answer instanceof Error &&
    !(answer instanceof AppError && answer.code === 'channel_nonce_reused')
  )
    return (await recordNonce(db, nonce).catch((error: Error) => error)) ?? answer;
  return answer;
}

async function postTogether(db: Kysely<DB>, items: readonly BatchItem[]): Promise<(PostedPayment | Error)[]> {
  const answers: (PostedPayment | Error | undefined)[] = new Array(items.length);
  const replays: number[] = [];
  await db.transaction().execute(async (trx) => {
    // A nonce twice in one batch: the second use is a replay.
    const seenNonces = new Set<string>();
    const repeated = new Set<number>();
    const nonces: NonNullable<BatchItem['requestNonce']>[] = [];
    items.forEach((item, k) => {
      if (!item.requestNonce) return;
      if (seenNonces.has(item.requestNonce.key)) repeated.add(k);
      else {
        seenNonces.add(item.requestNonce.key);
        nonces.push(item.requestNonce);
      }
    });
    const fresh = new Set<string>();
    if (nonces.length > 0) {
      const recorded = await sql<{ nonce_key: string }>`
        insert into channel_nonce (nonce_key, seen_at)
        select x.k, x.at from jsonb_to_recordset(${JSON.stringify(
          nonces.map((nonce) => ({ k: nonce.key, at: nonce.at.toISOString() })),
        )}::jsonb) as x(k text, at timestamptz)
        on conflict (nonce_key) do update set seen_at = excluded.seen_at
          where channel_nonce.seen_at < ${nonces[0]!.windowStart}::timestamptz
        returning nonce_key`.execute(trx);
      for (const row of recorded.rows) fresh.add(row.nonce_key);
    }
    const days = [
      ...new Set(
        items.flatMap((item) =>
          item.channelDay ? [`${item.channelDay.channelCode}|${item.channelDay.businessDate}`] : [],
        ),
      ),
    ].sort();
    const closed = new Set<string>();
    for (const day of days) {
      const [channelCode, businessDate] = day.split('|') as [string, string];
      if (await lockChannelDay(trx, channelCode, businessDate, 'shared')) closed.add(day);
    }
    const hashes = new Map<string, string>();
    const candidates: number[] = [];
    items.forEach((item, k) => {
      const input = item.input;
      const day = item.channelDay;
      const refused = permissionError(item.principal);
      if (refused) {
        answers[k] = refused;
      } else if (item.requestNonce && (repeated.has(k) || !fresh.has(item.requestNonce.key))) {
        answers[k] = new AppError(
          'channel_nonce_reused',
          `X-Nonce was used within the last ${NONCE_WINDOW_SECONDS} s`,
        );
      } else if (!Number.isSafeInteger(input.amountFen) || input.amountFen <= 0) {
        answers[k] = new AppError('validation_failed', 'amount: must be more than 0.00');
      } else if (hashes.has(input.idempotencyKey)) {
        replays.push(k); // the same key twice in the batch: the second is a replay of the first
      } else if (day && closed.has(`${day.channelCode}|${day.businessDate}`)) {
        answers[k] = new AppError(
          'business_day_closed',
          `business day ${day.businessDate} is reconciled and closed`,
        );
      } else {
        hashes.set(input.idempotencyKey, paymentInputHash(input));
        candidates.push(k);
      }
    });
    if (candidates.length === 0) return;
    const { customers: byNo, claimed } = await claimPayments(
      trx,
      candidates.map((k) => ({
        key: items[k]!.input.idempotencyKey,
        customerNo: items[k]!.input.customerNo,
        inputHash: hashes.get(items[k]!.input.idempotencyKey)!,
        scopePath: items[k]!.principal.scopePath,
      })),
      'generic',
    );
    const toWrite: ClaimedPayment[] = [];
    const indexOf = new Map<string, number>();
    for (const k of candidates) {
      const { input, principal } = items[k]!;
      const customer = byNo.get(input.customerNo);
      if (!customer || !isInScope(principal, customer.path)) {
        answers[k] = new AppError('not_found', `customer ${input.customerNo} not found`);
        continue;
      }
      const paymentId = claimed.get(input.idempotencyKey);
      if (paymentId === undefined) {
        replays.push(k);
        continue;
      }
      indexOf.set(input.idempotencyKey, k);
      toWrite.push({
        principal,
        input,
        customerId: customer.customer_id,
        customerNo: customer.customer_no,
        category: customer.category,
        paymentId,
        inputHash: hashes.get(input.idempotencyKey)!,
      });
    }
    if (toWrite.length === 0) return;
    const written = await planAndWrite(trx, toWrite);
    for (const [key, payment] of written) answers[indexOf.get(key)!] = payment;
  });
  // Retries and in-batch duplicates: the single path replays the committed result (or refuses
  // the key with another input).
  for (const k of replays) answers[k] = await postAlone(db, items[k]!, false);
  return answers.map((answer) => answer ?? new Error('payment batch left an item unanswered'));
}

function permissionError(principal: Principal): Error | undefined {
  try {
    requirePermission(principal, 'payment.post');
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/**
 * Gathers concurrent payment requests into batches: a request waits while `maxInFlight` batches
 * are being committed, then goes with whatever arrived meanwhile (up to `maxBatch`). Under light
 * load every payment goes alone at once; under heavy load many share one commit. The defaults
 * (32 per batch, 4 in flight) were the best measured on 2 cores: with 8 in flight batches stayed
 * small and the API posted 2,800 payments/s instead of 3,400 (docs/adr/0008).
 */
export class PaymentBatcher {
  private queue: {
    item: BatchItem;
    resolve: (value: PostedPayment) => void;
    reject: (error: Error) => void;
  }[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly options: { readonly maxBatch: number; readonly maxInFlight: number } = {
      maxBatch: 32,
      maxInFlight: 4,
    },
  ) {}

  submit(item: BatchItem): Promise<PostedPayment> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight += 1;
      postPaymentBatch(
        this.db,
        batch.map((entry) => entry.item),
      )
        .then(
          (answers) =>
            answers.forEach((answer, k) => {
              if (answer instanceof Error) batch[k]!.reject(answer);
              else batch[k]!.resolve(answer);
            }),
          (error: Error) => {
            for (const entry of batch) entry.reject(error);
          },
        )
        .finally(() => {
          this.inFlight -= 1;
          this.pump();
        });
    }
  }
}
