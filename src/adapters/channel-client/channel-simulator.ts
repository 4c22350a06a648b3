import { randomBytes } from 'node:crypto';
import { SeededRandom } from '../../domain/seeded-random.js';
import { type Fen, fen, formatYuan, parseYuan } from '../../domain/money.js';
import { signedHeaders } from '../../app/request-signature.js';

/**
 * A bank written from docs/channel-api.md alone: it signs its requests, queries what a
 * customer owes, pays, retries on timeouts, 429 and 503, sends duplicates (also concurrently),
 * reverses some payments, and at the end uploads its reconciliation file for each business day it
 * touched. It keeps its own book of what it believes, so the utility's answers can be checked.
 */
export interface SimulationOptions {
  readonly baseUrl: string;
  readonly channelId: string;
  readonly secret: string;
  readonly customerNos: readonly string[];
  readonly payments: number;
  /** Share of payments sent twice (half of them concurrently, half as a later retry). */
  readonly duplicates: number;
  /** Share of acknowledged payments reversed afterwards. */
  readonly reversals: number;
  readonly concurrency: number;
  readonly seed: number;
  /** Query what the customer owes before paying (as a teller does). */
  readonly query: boolean;
  /** Upload the reconciliation file at the end. */
  readonly reconcile: boolean;
  /** Prefix of the channel's txnIds; a fresh run uses a fresh prefix. */
  readonly txnPrefix: string;
  /** Give up on a request after this long without an answer the bank can act on. */
  readonly giveUpMs?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SimulationReport {
  readonly payments: number;
  readonly acknowledged: number;
  readonly duplicatesSent: number;
  /** Duplicates answered with another receipt than the first answer: must be 0. */
  readonly duplicateReceiptMismatches: number;
  readonly reversed: number;
  readonly retries: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly seconds: number;
  readonly paymentsPerSecond: number;
  readonly payLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly reconciliations: readonly {
    readonly businessDate: string;
    readonly lines: number;
    readonly matched: number;
    readonly discrepancies: number;
  }[];
  /** True when every acknowledged payment was matched and nothing else was found. */
  readonly clean: boolean;
}

interface BookEntry {
  readonly txnId: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  status: 'posted' | 'reversed';
  receiptNo: string;
  businessDate: string;
}

type Answer = { status: number; body: Record<string, unknown> };

class GaveUp extends Error {}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * One signed request, retried (timeouts, 429, 503, 5xx, connection errors) until the server gives
 * an answer the bank can act on, as the contract asks of a bank.
 */
export function channelCaller(
  target: { readonly baseUrl: string; readonly channelId: string; readonly secret: string },
  giveUpMs: number,
  count: (code: string) => void,
  onRetry: () => void = () => {},
): (path: string, body: unknown) => Promise<Answer> {
  return async (path, body) => {
    const payload = JSON.stringify(body);
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) onRetry();
      try {
        const headers = signedHeaders(target.channelId, target.secret, {
          method: 'POST',
          path,
          nonce: randomBytes(12).toString('hex'),
          body: payload,
          at: new Date(),
        });
        const response = await fetch(`${target.baseUrl}${path}`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: payload,
          signal: AbortSignal.timeout(10_000),
        });
        const answer = { status: response.status, body: (await response.json()) as Record<string, unknown> };
        if (answer.status !== 429 && answer.status !== 503 && answer.status < 500) return answer;
        count(`HTTP_${answer.status}`);
      } catch (error) {
        count((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name);
      }
      if (Date.now() - started > giveUpMs) throw new GaveUp(`${path}: no answer after ${giveUpMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 50 * 2 ** Math.min(attempt, 6))));
    }
  };
}

/** A payment a platform's customer made, as the platform records it. */
export interface ScriptedPayment {
  readonly txnId: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly paidAt: Date;
}

/**
 * A platform's business day sent through the channel API: each payment posted (a share sent
 * twice, as retries happen), then the day's reconciliation file uploaded. Throws unless every
 * payment was acknowledged and the day reconciled clean. Sending the same day again is harmless
 * (the same txnIds replay; the same file gets the same answer).
 */
export async function payChannelDay(
  target: { readonly baseUrl: string; readonly channelId: string; readonly secret: string },
  businessDate: string,
  payments: readonly ScriptedPayment[],
  options: {
    readonly concurrency: number;
    readonly duplicates: number;
    readonly seed: number;
    /** Upload the day's reconciliation file (default true); a day not yet over is left open. */
    readonly reconcile?: boolean;
  },
): Promise<{ readonly acknowledged: number; readonly duplicatesSent: number }> {
  const random = new SeededRandom(options.seed);
  const errors: Record<string, number> = {};
  const call = channelCaller(target, 120_000, (code) => {
    errors[code] = (errors[code] ?? 0) + 1;
  });
  // A customer's payments go one after another, in the platform's order (each settles what the
  // one before left open); different customers' payments go in parallel.
  const groups = new Map<string, ScriptedPayment[]>();
  for (const payment of payments)
    groups.set(payment.customerNo, [...(groups.get(payment.customerNo) ?? []), payment]);
  const queue = [...groups.values()];
  let next = 0;
  let acknowledged = 0;
  let duplicatesSent = 0;
  const failures: string[] = [];
  const worker = async () => {
    for (;;) {
      const group = queue[next++];
      if (!group) return;
      for (const payment of group) await sendOne(payment);
    }
  };
  const sendOne = async (payment: ScriptedPayment) => {
    const body = {
      txnId: payment.txnId,
      customerNo: payment.customerNo,
      amount: formatYuan(payment.amountFen),
      paidAt: payment.paidAt.toISOString(),
    };
    const times = random.chance(options.duplicates) ? 2 : 1;
    if (times === 2) duplicatesSent += 1;
    for (let k = 0; k < times; k++) {
      const answer = await call('/channel/v1/payments', body);
      if (answer.status !== 200) failures.push(`${payment.txnId}: ${JSON.stringify(answer.body)}`);
      else if (k === 0) acknowledged += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  if (failures.length > 0)
    throw new Error(`${businessDate}: ${failures.length} payments refused: ${failures[0]}`);
  if (options.reconcile === false) return { acknowledged, duplicatesSent };
  const total = fen(payments.reduce((sum, payment) => sum + payment.amountFen, 0));
  const answer = await call('/channel/v1/reconciliation', {
    businessDate,
    count: payments.length,
    total: formatYuan(total),
    lines: payments.map((payment) => ({
      txnId: payment.txnId,
      customerNo: payment.customerNo,
      amount: formatYuan(payment.amountFen),
      status: 'posted',
    })),
  });
  const discrepancies = Array.isArray(answer.body.discrepancies) ? answer.body.discrepancies.length : -1;
  if (answer.status !== 200 || discrepancies !== 0)
    throw new Error(
      `${businessDate}: reconciliation not clean: ${JSON.stringify(answer.body).slice(0, 300)}`,
    );
  return { acknowledged, duplicatesSent };
}

export async function simulateChannel(options: SimulationOptions): Promise<SimulationReport> {
  if (options.customerNos.length === 0) throw new Error('no customers to pay for');
  const random = new SeededRandom(options.seed);
  const giveUpMs = options.giveUpMs ?? 120_000;
  const errors: Record<string, number> = {};
  let retries = 0;
  const count = (code: string) => {
    errors[code] = (errors[code] ?? 0) + 1;
  };

  const call = channelCaller(options, giveUpMs, count, () => {
    retries += 1;
  });

  const book = new Map<string, BookEntry>();
  const latencies: number[] = [];
  let duplicatesSent = 0;
  let mismatches = 0;
  let done = 0;
  let next = 0;
  const began = Date.now();

  async function payOne(k: number): Promise<void> {
    const customerNo = options.customerNos[k % options.customerNos.length]!;
    let amountFen = fen(random.int(1000, 30000));
    if (options.query) {
      const due = await call('/channel/v1/bills/query', { customerNo });
      if (due.status === 200) {
        const total = parseYuan(String(due.body.totalDue));
        if (total && total > 0)
          amountFen = random.chance(0.7) ? total : fen(Math.max(1, Math.floor(total / 2)));
      } else count(String((due.body.error as { code?: string } | undefined)?.code ?? due.status));
    }
    const txnId = `${options.txnPrefix}-${k}`;
    const body = { txnId, customerNo, amount: formatYuan(amountFen), paidAt: new Date().toISOString() };
    const duplicate = random.chance(options.duplicates);
    const concurrent = duplicate && random.chance(0.5);
    const t0 = performance.now();
    const answers = concurrent
      ? await Promise.all([call('/channel/v1/payments', body), call('/channel/v1/payments', body)])
      : [await call('/channel/v1/payments', body)];
    latencies.push(performance.now() - t0);
    if (duplicate && !concurrent) answers.push(await call('/channel/v1/payments', body));
    if (duplicate) duplicatesSent += 1;
    const first = answers[0]!;
    if (first.status !== 200) {
      count(String((first.body.error as { code?: string } | undefined)?.code ?? first.status));
      return;
    }
    if (answers.some((answer) => answer.body.receiptNo !== first.body.receiptNo)) mismatches += 1;
    const entry: BookEntry = {
      txnId,
      customerNo,
      amountFen,
      status: 'posted',
      receiptNo: String(first.body.receiptNo),
      businessDate: String(first.body.businessDate ?? ''),
    };
    book.set(txnId, entry);
    if (random.chance(options.reversals)) {
      const reversed = await call(`/channel/v1/payments/${encodeURIComponent(txnId)}/reverse`, {
        reason: '客户申请冲正',
      });
      if (reversed.status === 200) entry.status = 'reversed';
      else count(String((reversed.body.error as { code?: string } | undefined)?.code ?? reversed.status));
    }
  }

  async function worker(): Promise<void> {
    for (;;) {
      const k = next++;
      if (k >= options.payments) return;
      try {
        await payOne(k);
      } catch (error) {
        if (!(error instanceof GaveUp)) throw error;
        count('GAVE_UP');
      }
      done += 1;
      options.onProgress?.(done, options.payments);
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const seconds = (Date.now() - began) / 1000;

  const reconciliations: SimulationReport['reconciliations'][number][] = [];
  let clean = true;
  if (options.reconcile) {
    const days = new Map<string, BookEntry[]>();
    for (const entry of book.values())
      days.set(entry.businessDate, [...(days.get(entry.businessDate) ?? []), entry]);
    for (const [businessDate, entries] of [...days].sort()) {
      const lines = entries.map((entry) => ({
        txnId: entry.txnId,
        customerNo: entry.customerNo,
        amount: formatYuan(entry.amountFen),
        status: entry.status,
      }));
      const total = fen(entries.reduce((sum, entry) => sum + entry.amountFen, 0));
      const answer = await call('/channel/v1/reconciliation', {
        businessDate,
        count: lines.length,
        total: formatYuan(total),
        lines,
      });
      const discrepancies = Array.isArray(answer.body.discrepancies) ? answer.body.discrepancies.length : -1;
      const matched = Number(answer.body.matched ?? 0);
      reconciliations.push({ businessDate, lines: lines.length, matched, discrepancies });
      if (answer.status !== 200 || discrepancies !== 0 || matched !== lines.length) clean = false;
    }
  }
  latencies.sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    payments: options.payments,
    acknowledged: book.size,
    duplicatesSent,
    duplicateReceiptMismatches: mismatches,
    reversed: [...book.values()].filter((entry) => entry.status === 'reversed').length,
    retries,
    errors,
    seconds: round(seconds),
    paymentsPerSecond: round(book.size / Math.max(seconds, 0.001)),
    payLatencyMs: {
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies.at(-1) ?? 0),
    },
    reconciliations,
    clean: clean && mismatches === 0 && book.size === options.payments,
  };
}
