import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { signedHeaders } from '../../src/app/request-signature.js';
import { addChannel } from '../../src/app/add-channel.js';
import { openBills } from '../../src/app/ledger/customer-state.js';
import { postPaymentsInBulk } from '../../src/app/post-payments-in-bulk.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { channelSettlement } from '../../src/app/queries/channel-settlement.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { type Fen, formatYuan } from '../../src/domain/money.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { type ChannelCredentials, channelRequest } from '../support/channel-client.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';
import { TEST_CIPHER, TEST_NOW, buildTestServer, loginToken } from '../support/server.js';

const SECRET = 'bounds-secret-0123456789';
const BANK: ChannelCredentials = { channelId: 'BANK1', secret: SECRET };
/** TEST_NOW is 2026-11-27 10:00 in Asia/Shanghai: today and yesterday are open by default. */
const TODAY = '2026-11-27';
const YESTERDAY = '2026-11-26';
const RELEASED_ON = '2026-11-03';
const MiB = 1024 * 1024;

describeEachDatabase('bounded channel input (docs/channel-api.md)', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let owing: { customer_no: string; customer_id: number; category: string; due_on: string }[];
  const send = (path: string, body: unknown, options?: Parameters<typeof channelRequest>[4]) =>
    channelRequest(app, BANK, path, body, options);
  const payments = async () =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from payment`.execute(database.db)).rows[0]!.n,
    );
  const pay = (customerNo: string, txnId: string, amount: string, paidAt: string, as = BANK) =>
    channelRequest(app, as, '/channel/v1/payments', { txnId, customerNo, amount, paidAt });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, {
      period: '2026-10' as Period,
      releasedOn: RELEASED_ON as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    const channels: Parameters<typeof addChannel>[3][] = [
      { channelCode: 'BANK1', secret: SECRET },
      { channelCode: 'OFF', secret: SECRET },
      { channelCode: 'WIDE', secret: SECRET, paidAtWindowDays: 31, maxPaymentFen: 50_000 },
      { channelCode: 'BIG', secret: SECRET, maxPaymentFen: 99_999_999_999_999 },
    ];
    for (const channel of channels)
      await addChannel(database.db, CLI_PRINCIPAL, TEST_CIPHER.encrypt, channel, TEST_NOW);
    await database.db
      .updateTable('channel')
      .set({ enabled: false })
      .where('channel_code', '=', 'OFF')
      .execute();
    app = await buildTestServer(database);
    // Customers of the 2026-10 bills, unpaid and past their due date by yesterday (late fee accrues).
    owing = (
      await sql<{ customer_no: string; customer_id: number; category: string; due_on: string }>`
        select c.customer_no, c.customer_id, c.category, r.due_on::text as due_on from customer c
        join bill b on b.customer_id = c.customer_id and b.period = '2026-10'
        join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
        where b.amount_fen > 10000 and r.due_on < ${YESTERDAY}::date
          and not exists (select 1 from allocation a where a.customer_id = b.customer_id and a.bill_id = b.bill_id)
        order by c.customer_id limit 120`.execute(database.db)
    ).rows;
    expect(owing.length).toBeGreaterThanOrEqual(110);
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('refuses a backdated paidAt with nothing posted, and charges the late fee of an accepted one', async () => {
    const customer = owing[0]!;
    const before = await payments();
    for (const [k, [paidAt, why]] of [
      ['2026-09-27T10:00:00+08:00', 'two months back'],
      ['2026-11-25T23:59:59+08:00', 'the day before yesterday'],
      ['2026-11-25T15:59:59Z', 'the day before yesterday in Shanghai, given in UTC'],
    ].entries()) {
      const refused = await pay(customer.customer_no, `T-back-${k}`, '100.00', paidAt!);
      expect([why, refused.status, refused.body.error?.code]).toEqual([why, 422, 'PAID_AT_OUT_OF_WINDOW']);
      expect(refused.body.error.message).toContain('paidAt');
    }
    expect(await payments()).toBe(before);
    // Yesterday, by the utility's zone (16:00Z on the 25th is 00:00 on the 26th in Shanghai).
    const expected = await openBills(
      database.db,
      customer.customer_id,
      customer.category === 'residential' ? 'residential' : 'other',
      YESTERDAY as LocalDate,
    );
    const lateFee = expected.reduce((sum, bill) => sum + bill.lateFeeFen, 0);
    expect(lateFee).toBeGreaterThan(0);
    const accepted = await pay(customer.customer_no, 'T-back-ok', '100000.00', '2026-11-25T16:00:00Z');
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
    expect(accepted.body.businessDate).toBe(YESTERDAY);
    const charged = accepted.body.allocations.reduce(
      (sum: number, a: { lateFee: string }) => sum + Math.round(Number(a.lateFee) * 100),
      0,
    );
    expect(formatYuan(charged as Fen)).toBe(formatYuan(lateFee as Fen));
    expect(await payments()).toBe(before + 1);
    const revenue = await sql<{ fen: string }>`
      select coalesce(-sum(po.amount_fen), 0)::text as fen from posting po
      join payment p on p.customer_id = po.customer_id and p.journal_entry_id = po.journal_entry_id
      where p.channel_txn_id = 'T-back-ok' and po.ledger_account_code = 'late_fee_revenue'`.execute(
      database.db,
    );
    expect(Number(revenue.rows[0]!.fen)).toBe(lateFee);
  });

  it('opens as many business days as the channel is given, never before the bill’s release', async () => {
    const customer = owing[1]!;
    const wide = { channelId: 'WIDE', secret: SECRET };
    const before = await payments();
    const early = await pay(customer.customer_no, 'W-early', '100.00', '2026-11-02T12:00:00+08:00', wide);
    expect([early.status, early.body.error?.code]).toEqual([422, 'PAID_AT_OUT_OF_WINDOW']);
    expect(early.body.error.message).toContain(RELEASED_ON);
    expect(await payments()).toBe(before);
    // On the release day, before the due date: accepted, without late fee.
    const onRelease = await pay(
      customer.customer_no,
      'W-release',
      '100.00',
      `${RELEASED_ON}T12:00:00+08:00`,
      wide,
    );
    expect(onRelease.status, JSON.stringify(onRelease.body)).toBe(200);
    expect(onRelease.body.allocations.every((a: { lateFee: string }) => a.lateFee === '0.00')).toBe(true);
    // A payment that settles no bill (prepaid only) has no release to respect: the window decides.
    expect(await payments()).toBe(before + 1);
  });

  it('refuses an amount above the channel’s maximum with nothing posted', async () => {
    const customer = owing[2]!;
    const wide = { channelId: 'WIDE', secret: SECRET };
    const before = await payments();
    const cases = [
      [BANK, '1000000.01', 'AMOUNT_ABOVE_LIMIT'],
      [wide, '500.01', 'AMOUNT_ABOVE_LIMIT'],
    ] as const;
    for (const [as, amount, code] of cases) {
      const refused = await pay(customer.customer_no, `L-${amount}`, amount, `${TODAY}T09:00:00+08:00`, as);
      expect([as.channelId, refused.status, refused.body.error?.code]).toEqual([as.channelId, 422, code]);
      expect(refused.body.error.message).toContain('amount');
    }
    expect(await payments()).toBe(before);
    const atLimit = await pay(customer.customer_no, 'L-500', '500.00', `${TODAY}T09:00:00+08:00`, wide);
    expect(atLimit.status).toBe(200);
    const bankAtLimit = await pay(owing[3]!.customer_no, 'L-1m', '1000000.00', `${TODAY}T09:00:00+08:00`);
    expect(bankAtLimit.status).toBe(200);
    expect(await payments()).toBe(before + 2);
  });

  it('still answers a retry of a posted payment with its receipt once its day has left the window', async () => {
    const body = {
      txnId: 'T-retry',
      customerNo: owing[4]!.customer_no,
      amount: '10.00',
      paidAt: `${TODAY}T09:30:00+08:00`,
    };
    const first = await send('/channel/v1/payments', body);
    expect(first.status).toBe(200);
    const at = new Date(TEST_NOW.getTime() + 3 * 86_400_000);
    const later = await buildTestServer(database, { clock: fixedClock(at, 'Asia/Shanghai') });
    try {
      const retry = await channelRequest(later, BANK, '/channel/v1/payments', body, { at });
      expect([retry.status, retry.body.receiptNo]).toEqual([200, first.body.receiptNo]);
      const fresh = await channelRequest(
        later,
        BANK,
        '/channel/v1/payments',
        { ...body, txnId: 'T-retry-2' },
        { at },
      );
      expect([fresh.status, fresh.body.error?.code]).toEqual([422, 'PAID_AT_OUT_OF_WINDOW']);
    } finally {
      await later.close();
    }
  });

  it('answers a retry with the business day the payment was booked on, whatever paidAt it carries', async () => {
    const body = {
      txnId: 'T-day',
      customerNo: owing[20]!.customer_no,
      amount: '3.00',
      paidAt: `${TODAY}T08:00:00+08:00`,
    };
    const first = await send('/channel/v1/payments', body);
    expect([first.status, first.body.businessDate]).toEqual([200, TODAY]);
    const retry = await send('/channel/v1/payments', { ...body, paidAt: `${YESTERDAY}T10:00:00+08:00` });
    expect([retry.status, retry.body.receiptNo, retry.body.businessDate]).toEqual([
      200,
      first.body.receiptNo,
      TODAY,
    ]);
  });

  it('answers an unknown and a disabled channel alike unless the signature is valid', async () => {
    const body = {
      txnId: 'T-x',
      customerNo: owing[5]!.customer_no,
      amount: '1.00',
      paidAt: `${TODAY}T09:00:00+08:00`,
    };
    const wrong = 'not-the-secret-0123456789';
    const unknown = await channelRequest(
      app,
      { channelId: 'NOPE', secret: wrong },
      '/channel/v1/payments',
      body,
    );
    const disabled = await channelRequest(
      app,
      { channelId: 'OFF', secret: wrong },
      '/channel/v1/payments',
      body,
    );
    expect(unknown.status).toBe(401);
    expect(disabled).toEqual(unknown);
    expect(unknown.body.error.code).toBe('AUTH_UNKNOWN_CHANNEL');
    // Also with a body too large to be read (a disabled channel's cannot be verified).
    const big = 'x'.repeat(MiB + 1);
    const unknownBig = await channelRequest(
      app,
      { channelId: 'NOPE', secret: wrong },
      '/channel/v1/payments',
      null,
      { rawBody: big },
    );
    const disabledBig = await channelRequest(
      app,
      { channelId: 'OFF', secret: wrong },
      '/channel/v1/payments',
      null,
      { rawBody: big },
    );
    expect(disabledBig).toEqual(unknownBig);
    expect(unknownBig.status).toBe(401);
    // The holder of the secret learns that the channel is disabled.
    const told = await channelRequest(
      app,
      { channelId: 'OFF', secret: SECRET },
      '/channel/v1/payments',
      body,
    );
    expect([told.status, told.body.error?.code]).toEqual([401, 'AUTH_CHANNEL_DISABLED']);
    // An enabled channel with a wrong signature is told so.
    const bad = await channelRequest(
      app,
      { channelId: 'BANK1', secret: wrong },
      '/channel/v1/payments',
      body,
    );
    expect(bad.body.error?.code).toBe('AUTH_BAD_SIGNATURE');
  });

  it('refuses bodies over 1 MiB (reconciliation 16 MiB) with 413, and Fastify’s own answers in the error shape', async () => {
    const over = await send('/channel/v1/payments', null, { rawBody: `{"pad":"${'x'.repeat(MiB)}"}` });
    expect([over.status, over.body.error?.code]).toEqual([413, 'BODY_TOO_LARGE']);
    // A reconciliation file above 1 MiB (padded with JSON whitespace) is taken.
    const file = {
      businessDate: TODAY,
      count: 1,
      total: '1.00',
      lines: [{ txnId: 'REC-1', customerNo: owing[6]!.customer_no, amount: '1.00', status: 'posted' }],
    };
    const reconciled = await send('/channel/v1/reconciliation', null, {
      rawBody: `${JSON.stringify(file)}${' '.repeat(2 * MiB)}`,
    });
    expect(reconciled.status, JSON.stringify(reconciled.body).slice(0, 200)).toBe(200);
    const tooBig = await send('/channel/v1/reconciliation', null, { rawBody: 'x'.repeat(16 * MiB + 1) });
    expect([tooBig.status, tooBig.body.error?.code]).toEqual([413, 'BODY_TOO_LARGE']);
    const notFound = await app.inject({ method: 'POST', url: '/channel/v1/nothing', payload: {} });
    expect([notFound.statusCode, notFound.json().error.code]).toEqual([404, 'NOT_FOUND']);
    const longTxn = await app.inject({
      method: 'POST',
      url: `/channel/v1/payments/${'T'.repeat(200)}/reverse`,
      payload: {},
    });
    expect([longTxn.statusCode, longTxn.json().error.code]).toEqual([414, 'URI_TOO_LONG']);
    const staff404 = await app.inject({ method: 'GET', url: '/nothing-here' });
    expect([staff404.statusCode, staff404.json().error.code]).toEqual([404, 'not_found']);
    const staff413 = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"login":"${'x'.repeat(MiB)}"}`,
    });
    expect([staff413.statusCode, staff413.json().error.code]).toEqual([413, 'payload_too_large']);
  });

  it('refuses a 50 MB unauthenticated body before it is sent, without reading it into memory', async () => {
    const server = await buildTestServer(database);
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    const size = 50 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const stream = (headers: Record<string, string>, declareLength: boolean) =>
      new Promise<{ status: number; body: string; sentWhenAnswered: number }>((resolve, reject) => {
        let sent = 0;
        let answered = false;
        const request = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/channel/v1/payments',
          headers: {
            ...headers,
            'content-type': 'application/json',
            ...(declareLength ? { 'content-length': String(size) } : {}),
          },
        });
        request.on('response', (response) => {
          const sentWhenAnswered = sent;
          answered = true;
          let body = '';
          response.on('data', (data) => {
            body += data;
          });
          response.on('end', () => {
            request.destroy();
            resolve({ status: response.statusCode ?? 0, body, sentWhenAnswered });
          });
        });
        request.on('error', (error) => {
          if (!answered) reject(error);
        });
        const write = () => {
          while (!answered && sent < size) {
            sent += chunk.length;
            if (!request.write(chunk)) {
              request.once('drain', write);
              return;
            }
          }
          if (!answered) request.end();
        };
        write();
      });
    try {
      global.gc?.();
      const rssBefore = process.memoryUsage().rss;
      const noAuth = await stream({}, true);
      const unknown = await stream(
        {
          'x-channel-id': 'NOPE',
          'x-timestamp': String(Math.floor(TEST_NOW.getTime() / 1000)),
          'x-nonce': randomBytes(8).toString('hex'),
          'x-signature': 'a'.repeat(64),
        },
        false,
      );
      // A known channel with a well-formed (but unverifiable) signature, streamed without a length:
      // read up to the limit, then refused.
      const known = await stream(
        signedHeaders('BANK1', SECRET, {
          method: 'POST',
          path: '/channel/v1/payments',
          nonce: randomBytes(8).toString('hex'),
          body: '',
          at: TEST_NOW,
        }),
        false,
      );
      const grown = process.memoryUsage().rss - rssBefore;
      expect([noAuth.status, JSON.parse(noAuth.body).error.code]).toEqual([401, 'AUTH_MISSING_HEADERS']);
      expect([unknown.status, JSON.parse(unknown.body).error.code]).toEqual([401, 'AUTH_UNKNOWN_CHANNEL']);
      expect([known.status, JSON.parse(known.body).error.code]).toEqual([413, 'BODY_TOO_LARGE']);
      for (const answer of [noAuth, unknown, known]) expect(answer.sentWhenAnswered).toBeLessThan(size / 4);
      expect(grown).toBeLessThan(size / 2);
    } finally {
      await server.close();
    }
  });

  it('sums large totals exactly: settlement and the reconciliation total check never answer 500', async () => {
    const amountFen = 99_999_999_999_999; // the largest maximum a channel may be given
    const customers = owing.slice(10, 110);
    const result = await postPaymentsInBulk(
      database.db,
      CLI_PRINCIPAL,
      customers.map((customer, k) => ({
        idempotencyKey: `channel:BIG:BIG-${k}`,
        customerNo: customer.customer_no,
        amountFen: amountFen as Fen,
        paidAt: TEST_NOW,
        businessDate: YESTERDAY as LocalDate,
        source: { kind: 'channel' as const, channelCode: 'BIG', txnId: `BIG-${k}` },
      })),
    );
    expect(result.posted).toBe(100);
    const expected = BigInt(amountFen) * 100n; // beyond 2^53 fen
    expect(expected > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    const [day] = await channelSettlement(database.db, CLI_PRINCIPAL, {
      channelCode: 'BIG',
      from: YESTERDAY as LocalDate,
      to: YESTERDAY as LocalDate,
    });
    expect(day).toMatchObject({
      payments: 100,
      paymentsTotal: '99999999999999.00',
      owed: '99999999999999.00',
      clearingBalance: '99999999999999.00',
      agrees: true,
    });
    const finance = await loginToken(app, 'finance');
    const api = await app.inject({
      method: 'GET',
      url: `/api/v1/reconciliation/settlement?channel=BIG&from=${YESTERDAY}&to=${YESTERDAY}`,
      headers: { authorization: `Bearer ${finance}` },
    });
    expect(api.statusCode).toBe(200);
    expect(api.json()[0].paymentsTotal).toBe('99999999999999.00');
    // A reconciliation file whose lines pass 2^53 fen: refused as disagreeing, the sum exact.
    const lines = Array.from({ length: 10 }, (_, k) => ({
      txnId: `HUGE-${k}`,
      customerNo: customers[k]!.customer_no,
      amount: '9999999999999.99',
      status: 'posted',
    }));
    const file = await send('/channel/v1/reconciliation', {
      businessDate: YESTERDAY,
      count: 10,
      total: '1.00',
      lines,
    });
    expect([file.status, file.body.error?.code]).toEqual([400, 'INVALID_REQUEST']);
    expect(file.body.error.message).toContain('99999999999999.90');
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });
});
