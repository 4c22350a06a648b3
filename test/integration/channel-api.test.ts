import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { addChannel, rotateChannelSecret } from '../../src/app/add-channel.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { type ChannelCredentials, type ChannelResponse, channelRequest } from '../support/channel-client.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';
import { TEST_CIPHER, TEST_NOW, buildTestServer, loginToken } from '../support/server.js';

const BANK: ChannelCredentials = { channelId: 'BANK1', secret: 'bank1-secret-0123456789' };
const YESTERDAY = '2026-11-26';

describeEachDatabase('channel API (docs/channel-api.md)', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let owing: { customer_no: string; name: string; customer_id: number }[];
  const send = (path: string, body: unknown, options?: Parameters<typeof channelRequest>[4]) =>
    channelRequest(app, BANK, path, body, options);
  const count = async (table: 'payment' | 'payment_reversal' | 'channel_reconciliation') =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(database.db))
        .rows[0]!.n,
    );

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, {
      period: '2026-10' as Period,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    await addChannel(
      database.db,
      CLI_PRINCIPAL,
      TEST_CIPHER.encrypt,
      { channelCode: 'BANK1', secret: BANK.secret, feeRate: '0.001' },
      TEST_NOW,
    );
    await addChannel(
      database.db,
      CLI_PRINCIPAL,
      TEST_CIPHER.encrypt,
      { channelCode: 'OFF', secret: BANK.secret },
      TEST_NOW,
    );
    await database.db
      .updateTable('channel')
      .set({ enabled: false })
      .where('channel_code', '=', 'OFF')
      .execute();
    app = await buildTestServer(database);
    owing = (
      await sql<{ customer_no: string; name: string; customer_id: number }>`
        select c.customer_no, c.name, c.customer_id from customer c
        join bill b on b.customer_id = c.customer_id
        join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
        where b.amount_fen > 1000
        order by c.customer_id limit 12`.execute(database.db)
    ).rows;
  });
  afterAll(async () => {
    await app?.close();
    await database?.close();
  });

  it('answers what a customer owes, name masked, totalDue the sum of the open bills', async () => {
    const customer = owing[0]!;
    const response = await send('/channel/v1/bills/query', { customerNo: customer.customer_no });
    expect(response.status).toBe(200);
    expect(response.body.customerNo).toBe(customer.customer_no);
    expect(response.body.name).toBe(`${Array.from(customer.name)[0]}*`);
    expect(response.body.bills.length).toBeGreaterThan(0);
    const dues = response.body.bills.map((bill: { due: string }) => Math.round(Number(bill.due) * 100));
    expect(Math.round(Number(response.body.totalDue) * 100)).toBe(
      dues.reduce((a: number, b: number) => a + b, 0),
    );
    expect(response.body.bills[0]).toMatchObject({ period: '2026-10', paid: '0.00' });
    expect(response.body.prepaidBalance).toBe('0.00');
    expect((await send('/channel/v1/bills/query', { customerNo: '9999999999' })).body.error.code).toBe(
      'CUSTOMER_NOT_FOUND',
    );
  });

  it('posts a payment exactly once, also when the same request arrives concurrently', async () => {
    const customer = owing[1]!;
    const before = await count('payment');
    const query = await send('/channel/v1/bills/query', { customerNo: customer.customer_no });
    const over = (Math.round(Number(query.body.totalDue) * 100) + 1234) / 100;
    const body = {
      txnId: 'T-exact-1',
      customerNo: customer.customer_no,
      amount: over.toFixed(2),
      paidAt: `${YESTERDAY}T15:30:00+08:00`,
    };
    const answers = await Promise.all(Array.from({ length: 8 }, () => send('/channel/v1/payments', body)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(new Set(answers.map((a) => a.body.receiptNo)).size).toBe(1);
    expect(answers[0]!.body).toMatchObject({ txnId: 'T-exact-1', status: 'posted', prepaidBalance: '12.34' });
    const settled = answers[0]!.body.allocations.reduce(
      (sum: number, a: { principal: string; lateFee: string }) =>
        sum + Math.round((Number(a.principal) + Number(a.lateFee)) * 100),
      0,
    );
    expect(settled + 1234).toBe(Math.round(over * 100));
    expect(await count('payment')).toBe(before + 1);
    const conflict = await send('/channel/v1/payments', { ...body, amount: '1.00' });
    expect([conflict.status, conflict.body.error.code]).toEqual([409, 'TXN_CONFLICT']);
    const after = await send('/channel/v1/bills/query', { customerNo: customer.customer_no });
    expect([after.body.totalDue, after.body.prepaidBalance]).toEqual(['0.00', '12.34']);
  });

  it('refuses bad requests with the contract’s error and writes nothing', async () => {
    const customer = owing[2]!;
    const good = {
      txnId: 'T-bad',
      customerNo: customer.customer_no,
      amount: '10.00',
      paidAt: '2026-11-27T09:00:00+08:00',
    };
    const before = await count('payment');
    const cases: [string, Promise<ChannelResponse>, number, string][] = [
      [
        'tampered signature',
        send('/channel/v1/payments', good, {
          tamper: (h) => {
            h['x-signature'] = h['x-signature']!.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
          },
        }),
        401,
        'AUTH_BAD_SIGNATURE',
      ],
      [
        'body changed after signing',
        send('/channel/v1/payments', good, {
          rawBody: JSON.stringify({ ...good, amount: '10.00' }),
          tamper: (h) => {
            h['x-timestamp'] = String(Number(h['x-timestamp']) + 1);
          },
        }),
        401,
        'AUTH_BAD_SIGNATURE',
      ],
      [
        'expired timestamp',
        send('/channel/v1/payments', good, { at: new Date(TEST_NOW.getTime() - 301_000) }),
        401,
        'AUTH_TIMESTAMP_EXPIRED',
      ],
      [
        'unknown channel',
        channelRequest(app, { channelId: 'NOPE', secret: BANK.secret }, '/channel/v1/payments', good),
        401,
        'AUTH_UNKNOWN_CHANNEL',
      ],
      [
        'disabled channel',
        channelRequest(app, { channelId: 'OFF', secret: BANK.secret }, '/channel/v1/payments', good),
        401,
        'AUTH_CHANNEL_DISABLED',
      ],
      [
        'missing headers',
        send('/channel/v1/payments', good, {
          tamper: (h) => {
            delete h['x-nonce'];
          },
        }),
        401,
        'AUTH_MISSING_HEADERS',
      ],
      [
        'malformed JSON',
        send('/channel/v1/payments', null, { rawBody: '{"txnId": "T-bad",' }),
        400,
        'MALFORMED_JSON',
      ],
      ['3 decimals', send('/channel/v1/payments', { ...good, amount: '10.001' }), 400, 'INVALID_AMOUNT'],
      ['negative amount', send('/channel/v1/payments', { ...good, amount: '-10.00' }), 400, 'INVALID_AMOUNT'],
      ['zero amount', send('/channel/v1/payments', { ...good, amount: '0.00' }), 400, 'INVALID_AMOUNT'],
      ['amount as a number', send('/channel/v1/payments', { ...good, amount: 10 }), 400, 'INVALID_AMOUNT'],
      [
        'no offset in paidAt',
        send('/channel/v1/payments', { ...good, paidAt: '2026-11-27T09:00:00' }),
        400,
        'INVALID_REQUEST',
      ],
      [
        'missing customerNo',
        send('/channel/v1/payments', { ...good, customerNo: undefined }),
        400,
        'INVALID_REQUEST',
      ],
      [
        'unknown customer',
        send('/channel/v1/payments', { ...good, customerNo: '9999999999' }),
        404,
        'CUSTOMER_NOT_FOUND',
      ],
    ];
    for (const [what, pending, status, code] of cases) {
      const response = await pending;
      expect([what, response.status, response.body.error?.code], what).toEqual([what, status, code]);
      expect(typeof response.body.error.message, what).toBe('string');
    }
    const missing = await send('/channel/v1/payments', { ...good, customerNo: undefined });
    expect(missing.body.error.message).toContain('customerNo');
    expect(await count('payment')).toBe(before);
    // A nonce is good once within 600 s.
    const first = await send(
      '/channel/v1/bills/query',
      { customerNo: customer.customer_no },
      { nonce: 'nonce-once-1' },
    );
    const again = await send(
      '/channel/v1/bills/query',
      { customerNo: customer.customer_no },
      { nonce: 'nonce-once-1' },
    );
    expect([first.status, again.status, again.body.error.code]).toEqual([200, 401, 'AUTH_NONCE_REUSED']);
    // Also for a payment, whose nonce is recorded in its own transaction, and for a failed one.
    const payment = { ...good, txnId: 'T-nonce-1', amount: '1.00' };
    const paid = await send('/channel/v1/payments', payment, { nonce: 'nonce-pay-1' });
    const replayed = await send('/channel/v1/payments', payment, { nonce: 'nonce-pay-1' });
    expect([paid.status, replayed.status, replayed.body.error?.code]).toEqual([
      200,
      401,
      'AUTH_NONCE_REUSED',
    ]);
    const refused = await send(
      '/channel/v1/payments',
      { ...payment, customerNo: '9999999999' },
      { nonce: 'nonce-pay-2' },
    );
    const refusedAgain = await send(
      '/channel/v1/payments',
      { ...payment, customerNo: '9999999999' },
      { nonce: 'nonce-pay-2' },
    );
    expect([refused.status, refusedAgain.body.error?.code]).toEqual([404, 'AUTH_NONCE_REUSED']);
  });

  it('reverses a payment by new entries, idempotently, and answers 404 for an unknown txnId', async () => {
    const customer = owing[3]!;
    const paid = await send('/channel/v1/payments', {
      txnId: 'T-rev-1',
      customerNo: customer.customer_no,
      amount: '20.00',
      paidAt: '2026-11-27T08:00:00+08:00',
    });
    expect(paid.status).toBe(200);
    const reversals = await count('payment_reversal');
    const first = await send('/channel/v1/payments/T-rev-1/reverse', { reason: '客户撤销' });
    const second = await send('/channel/v1/payments/T-rev-1/reverse', { reason: '客户撤销' });
    expect([first.status, first.body.status, second.status, second.body.status]).toEqual([
      200,
      'reversed',
      200,
      'reversed',
    ]);
    expect(await count('payment_reversal')).toBe(reversals + 1);
    const unknown = await send('/channel/v1/payments/T-none/reverse', { reason: 'x' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'TXN_NOT_FOUND']);
    const query = await send('/channel/v1/bills/query', { customerNo: customer.customer_no });
    expect(query.body.bills[0].paid).toBe('0.00');
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });

  it('accepts the old secret during a rotation overlap and refuses it after', async () => {
    await addChannel(
      database.db,
      CLI_PRINCIPAL,
      TEST_CIPHER.encrypt,
      { channelCode: 'ROT', secret: 'old-secret-0123456789' },
      new Date(TEST_NOW.getTime() - 3_600_000),
    );
    await rotateChannelSecret(
      database.db,
      CLI_PRINCIPAL,
      TEST_CIPHER.encrypt,
      { channelCode: 'ROT', secret: 'new-secret-0123456789', overlapHours: 1 },
      new Date(TEST_NOW.getTime() - 1000),
    );
    const query = (server: FastifyInstance, secret: string, at = TEST_NOW) =>
      channelRequest(
        server,
        { channelId: 'ROT', secret },
        '/channel/v1/bills/query',
        { customerNo: '9999999999' },
        { at },
      );
    expect((await query(app, 'old-secret-0123456789')).body.error.code).toBe('CUSTOMER_NOT_FOUND');
    expect((await query(app, 'new-secret-0123456789')).body.error.code).toBe('CUSTOMER_NOT_FOUND');
    const at = new Date(TEST_NOW.getTime() + 3_700_000);
    const later = await buildTestServer(database, { clock: fixedClock(at, 'Asia/Shanghai') });
    try {
      expect((await query(later, 'old-secret-0123456789', at)).body.error.code).toBe('AUTH_BAD_SIGNATURE');
      expect((await query(later, 'new-secret-0123456789', at)).body.error.code).toBe('CUSTOMER_NOT_FOUND');
    } finally {
      await later.close();
    }
  });

  describe('daily reconciliation', () => {
    const line = (txnId: string, customerNo: string, amount: string, status = 'posted') => ({
      txnId,
      customerNo,
      amount,
      status,
    });

    it('checks count and total against the lines', async () => {
      const bad = await send('/channel/v1/reconciliation', {
        businessDate: YESTERDAY,
        count: 2,
        total: '1.00',
        lines: [line('x', '1', '1.00')],
      });
      expect([bad.status, bad.body.error.code]).toEqual([400, 'INVALID_REQUEST']);
      expect(bad.body.error.message).toMatch(/^count/);
      const total = await send('/channel/v1/reconciliation', {
        businessDate: YESTERDAY,
        count: 1,
        total: '2.00',
        lines: [line('x', '1', '1.00')],
      });
      expect(total.body.error.message).toMatch(/^total/);
    });

    it('reports every discrepancy, keeps it for staff, and closes the day once a second person resolved them', async () => {
      const [a, b, c, d] = owing.slice(4, 8);
      for (const [txnId, customer] of [
        ['R-1', a],
        ['R-2', b],
        ['R-3', c],
      ] as const) {
        const response = await send('/channel/v1/payments', {
          txnId,
          customerNo: customer!.customer_no,
          amount: '30.00',
          paidAt: `${YESTERDAY}T11:00:00+08:00`,
        });
        expect(response.status).toBe(200);
      }
      const lines = [
        line('T-exact-1', owing[1]!.customer_no, '', 'posted'),
        line('R-1', a!.customer_no, '30.00'),
        line('R-2', b!.customer_no, '31.00'),
        line('R-9', d!.customer_no, '40.00'),
      ];
      // T-exact-1's amount as posted.
      const posted = await sql<{
        amount_fen: number;
      }>`select amount_fen from payment where channel_txn_id = 'T-exact-1'`.execute(database.db);
      lines[0]!.amount = (Number(posted.rows[0]!.amount_fen) / 100).toFixed(2);
      const total = (lines.reduce((sum, l) => sum + Math.round(Number(l.amount) * 100), 0) / 100).toFixed(2);
      const file = { businessDate: YESTERDAY, count: lines.length, total, lines };
      const result = await send('/channel/v1/reconciliation', file);
      expect(result.status).toBe(200);
      expect(result.body.matched).toBe(2);
      expect(
        result.body.discrepancies.map((d: { txnId: string; kind: string }) => [d.txnId, d.kind]),
      ).toEqual([
        ['R-2', 'amount_mismatch'],
        ['R-3', 'missing_at_channel'],
        ['R-9', 'missing_at_utility'],
      ]);
      expect(result.body.discrepancies[2].channel).toMatchObject({ txnId: 'R-9', amount: '40.00' });
      const submissions = await count('channel_reconciliation');
      const again = await send('/channel/v1/reconciliation', file);
      expect(again.body).toEqual(result.body);
      expect(await count('channel_reconciliation')).toBe(submissions);
      // Not accepted yet: the channel may still reverse.
      const finance = await loginToken(app, 'finance');
      const admin = await loginToken(app, 'admin');
      const staff = (token: string, method: 'GET' | 'POST', url: string, payload?: unknown) =>
        app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${token}` },
          ...(payload ? { payload } : {}),
        });
      const cases = (
        await staff(finance, 'GET', '/api/v1/reconciliation/cases?channel=BANK1&status=open')
      ).json<{ caseId: number; txnId: string }[]>();
      expect(cases.map((x) => x.txnId).sort()).toEqual(['R-2', 'R-3', 'R-9']);
      const byTxn = new Map(cases.map((x) => [x.txnId, x.caseId]));
      const plan: [string, string][] = [
        ['R-2', 'escalate'],
        ['R-3', 'reverse'],
        ['R-9', 'post_missing'],
      ];
      for (const [txnId, action] of plan) {
        const requested = await staff(
          finance,
          'POST',
          `/api/v1/reconciliation/cases/${byTxn.get(txnId)}/resolution`,
          { action, reason: '核对银行流水' },
        );
        expect(requested.statusCode, requested.body).toBe(200);
        const self = await staff(
          finance,
          'POST',
          `/api/v1/reconciliation/cases/${byTxn.get(txnId)}/approval`,
        );
        expect(self.json().error.code).toBe('same_person_approval');
      }
      const wrong = await staff(
        finance,
        'POST',
        `/api/v1/reconciliation/cases/${byTxn.get('R-2')}/resolution`,
        { action: 'reverse', reason: 'again' },
      );
      expect(wrong.json().error.code).toBe('case_already_resolved');
      let last: Record<string, unknown> = {};
      for (const [txnId] of plan) {
        const approved = await staff(
          admin,
          'POST',
          `/api/v1/reconciliation/cases/${byTxn.get(txnId)}/approval`,
        );
        expect(approved.statusCode, approved.body).toBe(200);
        last = approved.json();
      }
      expect(last.dayAccepted).toBe(true);
      // R-9 is now posted on the 26th, R-3 reversed; the day is closed for reversal and payment.
      const closed = await send('/channel/v1/payments/R-1/reverse', { reason: 'late' });
      expect([closed.status, closed.body.error.code]).toEqual([422, 'REVERSAL_CLOSED']);
      const latePay = await send('/channel/v1/payments', {
        txnId: 'R-late',
        customerNo: a!.customer_no,
        amount: '1.00',
        paidAt: `${YESTERDAY}T23:00:00+08:00`,
      });
      expect([latePay.status, latePay.body.error.code]).toEqual([422, 'BUSINESS_DAY_CLOSED']);
      const replaced = await send('/channel/v1/reconciliation', {
        ...file,
        count: 1,
        total: lines[1]!.amount,
        lines: [lines[1]],
      });
      expect([replaced.status, replaced.body.error.code]).toEqual([422, 'RECONCILIATION_CLOSED']);
      // The settlement equals the journal's channel clearing for the day.
      const settlement = (
        await staff(
          finance,
          'GET',
          `/api/v1/reconciliation/settlement?channel=BANK1&from=${YESTERDAY}&to=${YESTERDAY}`,
        )
      ).json<Record<string, unknown>[]>();
      expect(settlement).toHaveLength(1);
      expect(settlement[0]).toMatchObject({
        businessDate: YESTERDAY,
        reconciliation: 'accepted',
        agrees: true,
        payments: 5,
        reversals: 1,
      });
      expect(settlement[0]!.owed).toBe(settlement[0]!.clearingBalance);
      expect((await verifyLedger(database.db)).problems).toEqual([]);
    });
  });
});
