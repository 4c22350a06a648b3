import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { addChannel } from '../../app/add-channel.js';
import {
  type FileCodec,
  exportWithholdingBatch,
  importWithholdingResult,
} from '../../app/bank-withholding.js';
import { latestRevisionSql, principalSettledSql } from '../../app/ledger/customer-state.js';
import type { Clock, Decrypt, Encrypt } from '../../app/ports.js';
import type { PostPaymentInput } from '../../app/post-payment.js';
import { postPaymentsInBulk } from '../../app/post-payments-in-bulk.js';
import { CLI_PRINCIPAL } from '../../app/principal.js';
import { reconcileChannelDay } from '../../app/reconcile-channel-day.js';
import { channelSecretField } from '../../app/sealed-fields.js';
import { recordCashDeposit } from '../../app/cash-deposits.js';
import { SUCCESS_CODE, formatResultFile } from '../../domain/channel/bank-batch-file.js';
import { channelFee } from '../../domain/channel/channel-fee.js';
import { Decimal, yuanToFenHalfUp } from '../../domain/decimal.js';
import { type LocalDate, type Period, addDays, daysBetween } from '../../domain/local-date.js';
import { type Fen, fen } from '../../domain/money.js';
import { SeededRandom } from '../../domain/seeded-random.js';
import { BANKS } from './demo-names.js';

/** The demo county's payment platform (real-time agency collection) and its fee. */
export const DEMO_PLATFORM = { code: 'WXPAY', name: '微信支付缴费', feeRate: '0.001' } as const;

export interface DemoCollectionContext {
  readonly encrypt: Encrypt;
  readonly decrypt: Decrypt;
  /** Told the payment platform's secret once, when the platform is registered (random per installation). */
  readonly onPlatformSecret?: (channelCode: string, secret: string) => void;
  readonly codec: FileCodec;
  /** Payments are made up to this day, never after. */
  readonly today: LocalDate;
  readonly seed: number;
  /**
   * The payment platform's side: when given, its payments reach the utility through the channel
   * API, a business day at a time (the platform posts them, then uploads its reconciliation file);
   * otherwise they are posted with the rest through the bulk path and reconciled directly.
   */
  readonly platformGateway?: PlatformGateway;
}

/** A payment the platform's customer made, as the platform sends it. */
export interface PlatformPayment {
  readonly txnId: string;
  readonly customerNo: string;
  readonly amountFen: Fen;
  readonly paidAt: Date;
}

export type PlatformGateway = (
  businessDate: LocalDate,
  payments: readonly PlatformPayment[],
) => Promise<void>;

/**
 * The demo platform's current shared secret, read back from the channel registry (the demo signs
 * its requests with it). It was drawn at random when the platform was registered, so no two
 * installations share it and nothing derives it; null before registration.
 */
export async function demoPlatformSecret(db: Kysely<DB>, decrypt: Decrypt): Promise<string | null> {
  const row = await db
    .selectFrom('channel_secret')
    .select(['secret_no', 'secret_encrypted'])
    .where('channel_code', '=', DEMO_PLATFORM.code)
    .where('valid_until', 'is', null)
    .orderBy('secret_no', 'desc')
    .executeTakeFirst();
  return row ? decrypt(row.secret_encrypted, channelSecretField(DEMO_PLATFORM.code, row.secret_no)) : null;
}

/** Registers the demo's channels: the payment platform and the withholding banks (RCC files in GBK). */
export async function registerDemoChannels(
  db: Kysely<DB>,
  context: DemoCollectionContext,
  now: Date,
): Promise<void> {
  const existing = new Set(
    (await db.selectFrom('channel').select('channel_code').execute()).map((row) => row.channel_code),
  );
  if (!existing.has(DEMO_PLATFORM.code)) {
    const secret = randomBytes(24).toString('base64url');
    await addChannel(
      db,
      CLI_PRINCIPAL,
      context.encrypt,
      {
        channelCode: DEMO_PLATFORM.code,
        name: DEMO_PLATFORM.name,
        kind: 'payment_platform',
        secret,
        feeRate: DEMO_PLATFORM.feeRate,
      },
      now,
    );
    context.onPlatformSecret?.(DEMO_PLATFORM.code, secret);
  }
  for (const bank of BANKS) {
    if (existing.has(bank.code)) continue;
    await addChannel(
      db,
      CLI_PRINCIPAL,
      context.encrypt,
      {
        channelCode: bank.code,
        name: bank.name,
        kind: 'bank_batch',
        fileEncoding: bank.code === 'RCC' ? 'gbk' : 'utf-8',
      },
      now,
    );
  }
}

interface BillToPay {
  customer_id: number;
  customer_no: string;
  category: string;
  station_id: number;
  transformer_area_id: number;
  period: string;
  bill_id: number;
  amount_fen: number;
  released_on: string;
  due_on: string;
  payment_behaviour: 'on_time' | 'late' | 'chronic_arrears' | 'disappears';
  preferred_channel: 'counter' | 'collector' | 'bank_withholding' | 'realtime';
  pay_delay_days: number;
  disappears_after: string | null;
  withholding_bank_code: string | null;
}

/**
 * One month of the demo county's collection, through the real paths: on release day each bank
 * debits its signed-up customers (request file exported, the bank's result file imported; it
 * refuses chronic payers and a few others for lack of funds); everyone else pays by their habit
 * at the counter, to their area's electrician or through the payment platform, on time or late
 * by their hidden behaviour, covering the late fee when late; customers who disappear stop
 * paying. Payments dated in [from, to] are posted through the one posting rule (in bulk), and each
 * platform day is reconciled. Rerunning a month posts nothing new.
 */
export async function collectDemoMonth(
  db: Kysely<DB>,
  context: DemoCollectionContext,
  clock: Clock,
  window: { readonly period: Period; readonly from: LocalDate; readonly to: LocalDate },
): Promise<{ payments: number; withheld: number; deposits: number }> {
  const to = window.to < context.today ? window.to : context.today;
  if (window.from > to) return { payments: 0, withheld: 0, deposits: 0 };

  // Bank debits of the month's bills on release day.
  let withheld = 0;
  const banks = await sql<{ bank: string }>`
    select distinct a.withholding_bank_code as bank from customer_account a
    where a.withholding_bank_code is not null order by 1`.execute(db);
  for (const { bank } of banks.rows) {
    // One debit round per release day: a rerun of the month does not start a retry round.
    const sent = await db
      .selectFrom('withholding_batch')
      .select('batch_no')
      .where('bank_code', '=', bank)
      .where('batch_date', '=', window.from)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('withholding_result_file as f')
            .select('f.batch_no')
            .whereRef('f.bank_code', '=', 'withholding_batch.bank_code')
            .whereRef('f.batch_no', '=', 'withholding_batch.batch_no'),
        ),
      )
      .executeTakeFirst();
    if (sent) continue;
    const batch = await exportWithholdingBatch(db, CLI_PRINCIPAL, context.codec, context.decrypt, {
      bankCode: bank,
      date: window.from,
    });
    if (!batch) continue;
    const requested = context.codec
      .decode(batch.content)
      .text.trimEnd()
      .split('\n')
      .slice(1, -1)
      .map((line) => line.split('|'));
    const behaviour = await sql<{
      customer_no: string;
      customer_id: number;
      payment_behaviour: string;
      disappears_after: string | null;
    }>`
      select c.customer_no, c.customer_id, b.payment_behaviour, b.disappears_after from customer c
      join demo_customer_behaviour b on b.customer_id = c.customer_id
      where c.customer_no = any(${requested.map((fields) => fields[2]!)}::text[])`.execute(db);
    const byNo = new Map(behaviour.rows.map((row) => [row.customer_no, row]));
    const lines = requested.map((fields, k) => {
      const customer = byNo.get(fields[2]!)!;
      const random = new SeededRandom(
        context.seed,
        customer.customer_id,
        Number(window.from.replaceAll('-', '')),
      );
      const gone = customer.disappears_after !== null && customer.disappears_after <= window.period;
      const refused = customer.payment_behaviour === 'chronic_arrears' || gone || random.chance(0.06);
      return {
        seq: Number(fields[1]),
        customerNo: fields[2]!,
        amountFen: fen(Math.round(Number(fields[5]) * 100)),
        code: refused ? '3001' : SUCCESS_CODE,
        bankTxnId: refused
          ? ''
          : `${bank}${window.from.replaceAll('-', '')}${String(k + 1).padStart(7, '0')}`,
        message: refused ? '余额不足' : '成功',
      };
    });
    const answer = formatResultFile({
      bankCode: bank,
      batchNo: batch.batchNo,
      date: window.from.replaceAll('-', ''),
      lines,
    });
    const bankClock: Clock = {
      now: () => new Date(`${window.from}T06:00:00+08:00`),
      today: () => window.from,
      dateOf: (at) => clock.dateOf(at),
    };
    const imported = await importWithholdingResult(db, CLI_PRINCIPAL, context.codec, bankClock, {
      fileName: `WR_${bank}_${window.from.replaceAll('-', '')}_${batch.batchNo}.txt`,
      bytes: context.codec.encode(answer, batch.encoding),
    });
    withheld += imported.debited;
  }

  // Everyone else, by habit. Bills up to 14 months old can still be paid in this window.
  const bills = await sql<BillToPay>`
    select c.customer_id, c.customer_no, c.category, c.station_id, c.transformer_area_id, b.period, b.bill_id, b.amount_fen,
      r.released_on::text as released_on, r.due_on::text as due_on, h.payment_behaviour, h.preferred_channel,
      h.pay_delay_days, h.disappears_after, a.withholding_bank_code
    from bill b
    join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
    join customer c on c.customer_id = b.customer_id
    join demo_customer_behaviour h on h.customer_id = b.customer_id
    left join customer_account a on a.customer_id = b.customer_id and a.withholding_bank_code is not null
    left join lateral ${principalSettledSql()} x on true
    where r.released_on >= ${addDays(window.from, -430)}::date and r.released_on <= ${window.from}::date
      and r.released_on + h.pay_delay_days + 10 >= ${window.from}::date
      and r.released_on + h.pay_delay_days <= ${to}::date
      and b.amount_fen > coalesce(x.paid, 0)
      and ${latestRevisionSql()}
    order by b.customer_id, b.period`.execute(db);
  const staff = await demoCollectors(db);
  const platform = await db
    .selectFrom('channel')
    .select(['fee_per_txn_fen', 'fee_rate'])
    .where('channel_code', '=', DEMO_PLATFORM.code)
    .executeTakeFirstOrThrow();
  const inputs: PostPaymentInput[] = [];
  for (const bill of bills.rows) {
    if (
      bill.payment_behaviour === 'disappears' &&
      bill.disappears_after &&
      bill.period >= bill.disappears_after
    )
      continue;
    const random = new SeededRandom(context.seed, Number(bill.customer_id), Number(bill.bill_id));
    // A withholding customer's bill was debited on release day; an open one was refused and is
    // paid at the counter a week later than the habit.
    const withholding = bill.preferred_channel === 'bank_withholding' && bill.withholding_bank_code !== null;
    const delay = bill.pay_delay_days + random.int(0, 3) + (withholding ? 7 : 0);
    const payOn = addDays(bill.released_on as LocalDate, delay);
    if (payOn < window.from || payOn > to) continue;
    // Paying late, the customer also brings the late fee the counter asks for.
    const late = Math.max(0, daysBetween(bill.due_on as LocalDate, payOn));
    const rate = bill.category === 'residential' ? '0.001' : '0.002';
    const lateFee =
      late > 0
        ? Math.max(100, yuanToFenHalfUp(new Decimal(rate).times(late).times(bill.amount_fen).div(100)))
        : 0;
    const amountFen = fen(Number(bill.amount_fen) + lateFee);
    const channel = withholding ? 'counter' : bill.preferred_channel;
    const key = `demo:${bill.customer_id}:${bill.bill_id}`;
    const paidAt = new Date(
      `${payOn}T${String(8 + random.int(0, 10)).padStart(2, '0')}:${String(random.int(0, 59)).padStart(2, '0')}:00+08:00`,
    );
    const base = {
      idempotencyKey: key,
      customerNo: bill.customer_no,
      amountFen,
      paidAt,
      businessDate: payOn,
    };
    if (channel === 'realtime') {
      inputs.push({
        ...base,
        source: {
          kind: 'channel',
          channelCode: DEMO_PLATFORM.code,
          txnId: `WX${payOn.replaceAll('-', '')}${String(bill.customer_id).padStart(8, '0')}${String(bill.bill_id).slice(-3)}`,
          feeFen: channelFee(
            { perTransactionFen: Number(platform.fee_per_txn_fen), rate: platform.fee_rate },
            amountFen,
          ),
        },
      });
    } else if (channel === 'collector') {
      const collector =
        staff.collectorOfArea.get(Number(bill.transformer_area_id)) ??
        staff.cashierOfStation.get(Number(bill.station_id));
      inputs.push({ ...base, source: { kind: 'collector', staffId: collector ?? 0 } });
    } else {
      inputs.push({
        ...base,
        source: { kind: 'counter', staffId: staff.cashierOfStation.get(Number(bill.station_id)) ?? 0 },
      });
    }
  }
  inputs.sort(
    (a, b) => a.paidAt.getTime() - b.paidAt.getTime() || (a.idempotencyKey < b.idempotencyKey ? -1 : 1),
  );
  // Platform customers pay only through the platform, so its payments can go their own way.
  const viaGateway = context.platformGateway ? inputs.filter((input) => input.source.kind === 'channel') : [];
  const posted = await postPaymentsInBulk(
    db,
    CLI_PRINCIPAL,
    context.platformGateway ? inputs.filter((input) => input.source.kind !== 'channel') : inputs,
    { chunkSize: 4000 },
  );
  let postedViaGateway = 0;
  if (context.platformGateway) {
    const now = clock.now();
    const byDay = new Map<LocalDate, PlatformPayment[]>();
    for (const input of viaGateway) {
      if (input.source.kind !== 'channel') continue;
      const list = byDay.get(input.businessDate) ?? [];
      list.push({
        txnId: input.source.txnId,
        customerNo: input.customerNo,
        amountFen: input.amountFen,
        // Today's payments happen up to now, not later in the day.
        paidAt: input.paidAt.getTime() > now.getTime() ? now : input.paidAt,
      });
      byDay.set(input.businessDate, list);
    }
    for (const [day, payments] of [...byDay].sort(([a], [b]) => (a < b ? -1 : 1))) {
      await context.platformGateway(day, payments);
      postedViaGateway += payments.length;
    }
  }

  // Collectors and cashiers take their cash to the bank by habit; a few keep back part of it.
  const deposited = await depositDemoCash(db, window.from, to, to < addDays(context.today, -92));

  // The platform sends its file for each day; the demo's files match. (Through the gateway, the
  // platform uploaded them itself.)
  const days = context.platformGateway
    ? []
    : [
        ...new Set(
          inputs.filter((input) => input.source.kind === 'channel').map((input) => input.businessDate),
        ),
      ].sort();
  for (const day of days) {
    const lines = await sql<{ txn: string; customer_no: string; amount_fen: number }>`
      select p.channel_txn_id as txn, c.customer_no, p.amount_fen from payment p
      join customer c on c.customer_id = p.customer_id
      where p.channel_code = ${DEMO_PLATFORM.code} and p.business_date = ${day}::date
      order by p.channel_txn_id`.execute(db);
    const total = lines.rows.reduce((sum, row) => sum + Number(row.amount_fen), 0);
    await reconcileChannelDay(db, CLI_PRINCIPAL, DEMO_PLATFORM.code, clock, {
      businessDate: day,
      count: lines.rows.length,
      totalFen: fen(total),
      lines: lines.rows.map((row) => ({
        txnId: row.txn,
        customerNo: row.customer_no,
        amountFen: fen(Number(row.amount_fen)) as Fen,
        status: 'posted' as const,
      })),
    });
  }
  return { payments: posted.posted + postedViaGateway, withheld, deposits: deposited };
}

/**
 * Each collector's and cashier's cash of a day goes to the bank after their habitual delay
 * (demo_staff_behaviour); a collector who laps cash deposits only nine tenths of it, so their
 * cash on hand grows and the cash-control report flags them. Slip numbers are fixed per staff and
 * day, so a rerun records nothing twice. Months before the last quarter are recorded as one slip
 * per staff member and month (the demo's history), the last quarter slip by slip.
 */
async function depositDemoCash(
  db: Kysely<DB>,
  from: LocalDate,
  to: LocalDate,
  monthly: boolean,
): Promise<number> {
  const days = await sql<{
    login: string;
    staff_id: number;
    business_date: string;
    total: number;
    delay: number;
    laps: boolean;
  }>`
    select s.login, s.staff_id, p.business_date::text as business_date, sum(p.amount_fen)::bigint as total,
      coalesce(b.deposit_delay_days, 0) as delay, coalesce(b.laps_cash, false) as laps
    from payment p
    join journal_entry j on j.customer_id = p.customer_id and j.journal_entry_id = p.journal_entry_id
    join staff s on s.staff_id::text = j.source_id
    left join demo_staff_behaviour b on b.staff_id = s.staff_id
    where j.source_type in ('collector', 'counter')
      and p.business_date between ${addDays(from, -40)}::date and ${to}::date
      and not exists (select 1 from payment_reversal r where r.customer_id = p.customer_id and r.payment_id = p.payment_id)
    group by s.login, s.staff_id, p.business_date, b.deposit_delay_days, b.laps_cash
    order by p.business_date, s.staff_id`.execute(db);
  const slips: { login: string; slipNo: string; amount: number; on: LocalDate }[] = [];
  for (const day of days.rows) {
    const on = addDays(day.business_date as LocalDate, Number(day.delay));
    if (on < from || on > to) continue;
    const amount = day.laps ? Math.floor((Number(day.total) * 9) / 1000) * 100 : Number(day.total);
    if (amount <= 0) continue;
    const slipNo = monthly
      ? `DEMO-${day.staff_id}-${to.slice(0, 7).replace('-', '')}`
      : `DEMO-${day.staff_id}-${day.business_date.replaceAll('-', '')}`;
    const earlier = monthly ? slips.find((slip) => slip.slipNo === slipNo) : undefined;
    if (earlier) earlier.amount += amount;
    else slips.push({ login: day.login, slipNo, amount, on: monthly ? to : on });
  }
  for (const slip of slips) {
    await recordCashDeposit(db, CLI_PRINCIPAL, {
      staffLogin: slip.login,
      slipNo: slip.slipNo,
      bankAccount: 'COUNTY-BANK-01',
      amountFen: fen(slip.amount),
      depositedOn: slip.on,
    });
  }
  return slips.length;
}

async function demoCollectors(db: Kysely<DB>) {
  const cashiers = await sql<{ station_id: number; staff_id: number }>`
    select distinct on (team.parent_id) team.parent_id as station_id, s.staff_id from staff s
    join org_unit team on team.org_unit_id = s.org_unit_id
    where 'cashier' = any(s.roles) order by team.parent_id, s.staff_id`.execute(db);
  const collectors = await sql<{ area_id: number; staff_id: number }>`
    select distinct on (area_id) area_id, staff_id from area_assignment order by area_id, valid_from desc`.execute(
    db,
  );
  return {
    cashierOfStation: new Map(cashiers.rows.map((row) => [Number(row.station_id), Number(row.staff_id)])),
    collectorOfArea: new Map(collectors.rows.map((row) => [Number(row.area_id), Number(row.staff_id)])),
  };
}
