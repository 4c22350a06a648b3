import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyDeposit, receiveDeposit } from '../../src/app/customer-deposits.js';
import { AppError } from '../../src/app/errors.js';
import { decideLedgerRequest, payOutRefund, requestLedgerAction } from '../../src/app/ledger-requests.js';
import { principalForLogin } from '../../src/app/log-in.js';
import { approvePolicyHold, requestPolicyHold } from '../../src/app/policy-holds.js';
import { postPayment } from '../../src/app/post-payment.js';
import { openBills } from '../../src/app/ledger/customer-state.js';
import { CLI_PRINCIPAL, type Principal } from '../../src/app/principal.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { reversePayment } from '../../src/app/reverse-payment.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { cliIn, loggedInEnv } from '../support/cli-login.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { TEST_KEY_HEX, createSmallDemo } from '../support/demo.js';
import { buildTestServer, loginToken } from '../support/server.js';

const codeOf = (error: unknown) => (error instanceof AppError ? error.code : String(error));
const day = (value: string) => value as LocalDate;

describeEachDatabase(
  'receivables actions: prepaid, holds, waivers, write-offs, refunds, deposits',
  (kind) => {
    let database: TestDatabase;
    let cashier: Principal;
    let head: Principal;
    let checker: Principal;
    let customers: { customer_id: number; customer_no: string; sep: number; sep_no: string }[];

    const balance = async (customerId: number, account: string) =>
      Number(
        (
          await sql<{ total: number }>`select coalesce(sum(amount_fen), 0)::int8 as total from posting
          where customer_id = ${customerId} and ledger_account_code = ${account}`.execute(database.db)
        ).rows[0]!.total,
      );
    const pay = (customerNo: string, key: string, amount: number, businessDate: string) =>
      postPayment(database.db, cashier, {
        idempotencyKey: key,
        customerNo,
        amountFen: fen(amount),
        paidAt: new Date(`${businessDate}T10:00:00+08:00`),
        businessDate: day(businessDate),
        source: { kind: 'counter', staffId: cashier.staffId! },
      });
    const open = (customerId: number, asOf: string) =>
      openBills(database.db, customerId, 'residential', day(asOf));
    const release = (period: string, on: string) =>
      releaseBills(database.db, { period: period as Period, releasedOn: day(on), actor: CLI_PRINCIPAL });

    beforeAll(async () => {
      database = await createTestDatabase(kind);
      await createSmallDemo(database.db);
      await runBilling(database.db, { period: '2026-09' as Period, concurrency: 1, worker: 'test' });
      await release('2026-09', '2026-10-03');
      await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
      const rows = await sql<(typeof customers)[number] & { station_id: number }>`
      select c.customer_id, c.customer_no, c.station_id, b.amount_fen::int8 as sep, r.bill_no as sep_no from customer c
      join bill b on b.customer_id = c.customer_id and b.period = '2026-09'
      join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
      join bill o on o.customer_id = c.customer_id and o.period = '2026-10' and o.amount_fen > 6000
      where c.station_id = 11 and c.category = 'residential' and b.amount_fen > 2000
      order by c.customer_id limit 6`.execute(database.db);
      customers = rows.rows.map((row) => ({ ...row, sep: Number(row.sep) }));
      expect(customers).toHaveLength(6);
      const staff = await sql<{ login: string; roles: string[] }>`
      select login, roles from staff where org_unit_id = 11 or org_unit_id in (select org_unit_id from org_unit where parent_id = 11)
      order by login`.execute(database.db);
      const login = (role: string) => staff.rows.find((row) => row.roles.includes(role))!.login;
      cashier = await principalForLogin(database.db, login('cashier'));
      head = await principalForLogin(database.db, login('station_head'));
      checker = await principalForLogin(database.db, login('billing_checker'));
    });
    afterAll(() => database.close());

    it('applies prepaid balance to the bills it releases, and a reversal of the payment reopens them', async () => {
      const a = customers[0]!;
      const paid = await pay(a.customer_no, 'counter:P-1', a.sep + 5000, '2026-10-10');
      expect(paid.prepaidFen).toBe(5000);
      const summary = await release('2026-10', '2026-11-03');
      expect(summary.prepaidApplied.customers).toBeGreaterThanOrEqual(1);
      const [october] = await open(a.customer_id, '2026-11-04');
      expect(october!.period).toBe('2026-10');
      expect(october!.openPrincipalFen).toBe(october!.amountFen - 5000);
      expect(await balance(a.customer_id, 'customer_prepaid')).toBe(0);

      await reversePayment(database.db, cashier, {
        idempotencyKey: 'counter:P-1',
        reason: '收错户号',
        businessDate: day('2026-11-04'),
      });
      const reopened = await open(a.customer_id, '2026-11-04');
      expect(reopened.map((bill) => [bill.period, bill.openPrincipalFen])).toEqual([
        ['2026-09', a.sep],
        ['2026-10', october!.amountFen],
      ]);
      // As if never paid: the September bill, overdue since its due date, accrues its late fee.
      expect(reopened[0]!.lateFeeFen).toBeGreaterThan(0);
      expect(await balance(a.customer_id, 'customer_prepaid')).toBe(0);
      expect((await verifyLedger(database.db)).problems).toEqual([]);
    });

    it('charges no late fee over an approved policy hold, and only once a second person approved it', async () => {
      const b = customers[1]!;
      const before = await open(b.customer_id, '2026-11-20');
      expect(before[0]!.lateFeeFen).toBeGreaterThan(0);
      const hold = await requestPolicyHold(database.db, checker, {
        scope: { kind: 'customer', customerNo: b.customer_no },
        startsOn: day('2026-10-01'),
        endsOn: day('2026-12-31'),
        noLateFee: true,
        noDisconnection: true,
        reason: '受灾困难户缓缴',
      });
      expect((await open(b.customer_id, '2026-11-20'))[0]!.lateFeeFen).toBe(before[0]!.lateFeeFen);
      expect(codeOf(await approvePolicyHold(database.db, checker, hold.holdId).catch((e) => e))).toBe(
        'forbidden',
      );
      const own = await requestPolicyHold(database.db, head, {
        scope: { kind: 'customer', customerNo: b.customer_no },
        startsOn: day('2027-01-01'),
        endsOn: day('2027-01-31'),
        noLateFee: true,
        noDisconnection: false,
        reason: '自批测试',
      });
      expect(codeOf(await approvePolicyHold(database.db, head, own.holdId).catch((e) => e))).toBe(
        'same_person_approval',
      );
      const approved = await approvePolicyHold(database.db, head, hold.holdId);
      expect(approved.approvedBy).toBe(head.staffId);
      expect((await open(b.customer_id, '2026-11-20'))[0]!.lateFeeFen).toBe(0);
      expect(codeOf(await approvePolicyHold(database.db, head, hold.holdId).catch((e) => e))).toBe(
        'hold_already_approved',
      );
    });

    it('waives a bill’s late fee once approved, so paying what is due charges none', async () => {
      const c = customers[2]!;
      const [september] = await open(c.customer_id, '2026-11-20');
      expect(september!.lateFeeFen).toBeGreaterThan(0);
      const request = await requestLedgerAction(database.db, checker, {
        kind: 'late_fee_waiver',
        customerNo: c.customer_no,
        billNo: c.sep_no,
        reason: '抄表差错致迟缴',
        asOf: day('2026-11-20'),
      });
      expect(request).toMatchObject({ status: 'requested', amountFen: september!.lateFeeFen });
      expect(
        codeOf(
          await decideLedgerRequest(database.db, checker, {
            customerNo: c.customer_no,
            requestId: request.requestId,
            decision: 'approve',
            asOf: day('2026-11-20'),
          }).catch((e) => e),
        ),
      ).toBe('forbidden');
      const approved = await decideLedgerRequest(database.db, head, {
        customerNo: c.customer_no,
        requestId: request.requestId,
        decision: 'approve',
        asOf: day('2026-11-20'),
      });
      expect(approved).toMatchObject({ status: 'approved', settledFen: september!.lateFeeFen });
      expect((await open(c.customer_id, '2026-11-20'))[0]!.lateFeeFen).toBe(0);
      const paid = await pay(c.customer_no, 'counter:W-1', c.sep, '2026-11-20');
      expect(paid.allocations.filter((a) => a.billNo === c.sep_no).map((a) => a.kind)).toEqual(['principal']);
      expect(
        codeOf(
          await decideLedgerRequest(database.db, head, {
            customerNo: c.customer_no,
            requestId: request.requestId,
            decision: 'reject',
            asOf: day('2026-11-20'),
          }).catch((e) => e),
        ),
      ).toBe('request_already_decided');
    });

    it('writes off a bad debt with a second approver: receivable to bad-debt expense, late fee forgiven', async () => {
      const d = customers[3]!;
      await pay(d.customer_no, 'counter:D-1', 1000, '2026-10-20');
      const [september] = await open(d.customer_id, '2026-11-25');
      expect(september!.lateFeeFen).toBeGreaterThan(0);
      const request = await requestLedgerAction(database.db, checker, {
        kind: 'write_off',
        customerNo: d.customer_no,
        billNo: d.sep_no,
        reason: '企业破产清算无财产可供执行',
        asOf: day('2026-11-25'),
      });
      expect(request.amountFen).toBe(september!.openPrincipalFen);
      const receivable = await balance(d.customer_id, 'customer_receivable');
      await decideLedgerRequest(database.db, head, {
        customerNo: d.customer_no,
        requestId: request.requestId,
        decision: 'approve',
        asOf: day('2026-11-25'),
      });
      expect(await balance(d.customer_id, 'write_off_expense')).toBe(september!.openPrincipalFen);
      expect(await balance(d.customer_id, 'customer_receivable')).toBe(
        receivable - september!.openPrincipalFen,
      );
      const still = await open(d.customer_id, '2026-12-31');
      expect(still.map((bill) => bill.period)).toEqual(['2026-10']);
      expect(
        codeOf(
          await requestLedgerAction(database.db, checker, {
            kind: 'write_off',
            customerNo: d.customer_no,
            billNo: d.sep_no,
            reason: '重复申请',
            asOf: day('2026-11-26'),
          }).catch((e) => e),
        ),
      ).toBe('nothing_to_settle');
    });

    it('refunds prepaid balance in two steps, and a payment whose money was refunded cannot be reversed', async () => {
      const e = customers[4]!;
      const due = (await open(e.customer_id, '2026-11-05')).reduce(
        (sum, bill) => sum + bill.openPrincipalFen + bill.lateFeeFen,
        0,
      );
      const paid = await pay(e.customer_no, 'counter:E-1', due + 3000, '2026-11-05');
      expect(paid.prepaidFen).toBe(3000);
      expect(
        codeOf(
          await requestLedgerAction(database.db, checker, {
            kind: 'refund',
            customerNo: e.customer_no,
            amountFen: fen(3001),
            refundFrom: 'prepaid',
            reason: '多缴退费',
            asOf: day('2026-11-06'),
          }).catch((error) => error),
        ),
      ).toBe('insufficient_balance');
      const request = await requestLedgerAction(database.db, checker, {
        kind: 'refund',
        customerNo: e.customer_no,
        amountFen: fen(3000),
        refundFrom: 'prepaid',
        reason: '多缴退费',
        asOf: day('2026-11-06'),
      });
      expect(
        codeOf(
          await payOutRefund(database.db, head, {
            customerNo: e.customer_no,
            requestId: request.requestId,
            method: 'bank_transfer',
            bankAccount: '6222000011112222',
            paidOn: day('2026-11-06'),
          }).catch((error) => error),
        ),
      ).toBe('request_not_approved');
      await decideLedgerRequest(database.db, head, {
        customerNo: e.customer_no,
        requestId: request.requestId,
        decision: 'approve',
        asOf: day('2026-11-06'),
      });
      expect(await balance(e.customer_id, 'customer_prepaid')).toBe(0);
      expect(await balance(e.customer_id, 'refunds_payable')).toBe(-3000);
      const done = await payOutRefund(database.db, head, {
        customerNo: e.customer_no,
        requestId: request.requestId,
        method: 'bank_transfer',
        bankAccount: '6222000011112222',
        paidOn: day('2026-11-07'),
      });
      expect(done.status).toBe('paid_out');
      expect(await balance(e.customer_id, 'refunds_payable')).toBe(0);
      expect(
        codeOf(
          await reversePayment(database.db, cashier, {
            idempotencyKey: 'counter:E-1',
            reason: '测试冲正',
            businessDate: day('2026-11-08'),
          }).catch((error) => error),
        ),
      ).toBe('payment_refunded');
      const notices = await database.db
        .selectFrom('notification_outbox')
        .select(['kind', 'object_id'])
        .where('customer_id', '=', e.customer_id)
        .orderBy('notification_id')
        .execute();
      expect(notices.map((row) => row.kind)).toEqual(['payment_receipt', 'refund_paid']);
    });

    it('holds a deposit, applies it to arrears through the posting path and returns the rest', async () => {
      const f = customers[5]!;
      const received = await receiveDeposit(database.db, cashier, {
        customerNo: f.customer_no,
        receiptKey: 'DEP-0001',
        amountFen: fen(100_000),
        method: 'cash',
        receivedOn: day('2026-10-05'),
      });
      expect(received.depositBalanceFen).toBe(100_000);
      const again = await receiveDeposit(database.db, cashier, {
        customerNo: f.customer_no,
        receiptKey: 'DEP-0001',
        amountFen: fen(100_000),
        method: 'cash',
        receivedOn: day('2026-10-05'),
      });
      expect(again).toMatchObject({
        replayed: true,
        receiptNo: received.receiptNo,
        depositBalanceFen: 100_000,
      });
      const due = (await open(f.customer_id, '2026-11-20')).reduce(
        (sum, bill) => sum + bill.openPrincipalFen + bill.lateFeeFen,
        0,
      );
      const applied = await applyDeposit(database.db, cashier, {
        customerNo: f.customer_no,
        key: 'close-1',
        businessDate: day('2026-11-20'),
      });
      expect(applied.amountFen).toBe(due);
      expect(await open(f.customer_id, '2026-11-20')).toEqual([]);
      const replay = await applyDeposit(database.db, cashier, {
        customerNo: f.customer_no,
        key: 'close-1',
        businessDate: day('2026-11-20'),
      });
      expect(replay.replayed).toBe(true);
      expect(await balance(f.customer_id, 'customer_deposit')).toBe(-(100_000 - due));
      const refund = await requestLedgerAction(database.db, cashier, {
        kind: 'refund',
        customerNo: f.customer_no,
        amountFen: fen(100_000 - due),
        refundFrom: 'deposit',
        reason: '临时用电结束退押金',
        asOf: day('2026-11-21'),
      });
      await decideLedgerRequest(database.db, head, {
        customerNo: f.customer_no,
        requestId: refund.requestId,
        decision: 'approve',
        asOf: day('2026-11-21'),
      });
      expect(await balance(f.customer_id, 'customer_deposit')).toBe(0);
      const verification = await verifyLedger(database.db);
      expect(verification.problems).toEqual([]);
    });

    it('offers holds and two-person requests over the API, scoped and role-checked', async () => {
      const app = await buildTestServer(database);
      try {
        const asChecker = { authorization: `Bearer ${await loginToken(app, checker.login)}` };
        const asHead = { authorization: `Bearer ${await loginToken(app, head.login)}` };
        const b = customers[1]!;
        const created = await app.inject({
          method: 'POST',
          url: `/api/v1/customers/${b.customer_no}/ledger-requests`,
          headers: asChecker,
          payload: { kind: 'write_off', billNo: b.sep_no, reason: '户主迁出无法联系', asOf: '2026-11-26' },
        });
        expect(created.statusCode).toBe(201);
        const request = created.json<{ requestId: number; status: string; amount: string }>();
        expect(request.status).toBe('requested');
        const url = `/api/v1/customers/${b.customer_no}/ledger-requests/${request.requestId}/decision`;
        const byChecker = await app.inject({
          method: 'POST',
          url,
          headers: asChecker,
          payload: { decision: 'approve' },
        });
        expect(byChecker.statusCode).toBe(403);
        expect(byChecker.json().error.code).toBe('forbidden');
        const byHead = await app.inject({
          method: 'POST',
          url,
          headers: asHead,
          payload: { decision: 'approve', asOf: '2026-11-26' },
        });
        expect(byHead.statusCode).toBe(200);
        expect(byHead.json()).toMatchObject({ status: 'approved', settled: request.amount });
        const again = await app.inject({
          method: 'POST',
          url,
          headers: asHead,
          payload: { decision: 'reject' },
        });
        expect(again.json().error.code).toBe('request_already_decided');
        const badAmount = await app.inject({
          method: 'POST',
          url: `/api/v1/customers/${b.customer_no}/ledger-requests`,
          headers: asChecker,
          payload: { kind: 'refund', amount: '1.234', refundFrom: 'prepaid', reason: '多缴' },
        });
        expect(badAmount.statusCode).toBe(400);
        const notices = await app.inject({
          method: 'GET',
          url: `/api/v1/customers/${b.customer_no}/notifications`,
          headers: asHead,
        });
        expect(notices.json<{ kind: string }[]>().map((notice) => notice.kind)).toContain('write_off');

        const hold = await app.inject({
          method: 'POST',
          url: '/api/v1/policy-holds',
          headers: asChecker,
          payload: {
            scope: { kind: 'customer', value: customers[0]!.customer_no },
            startsOn: '2027-02-01',
            endsOn: '2027-02-28',
            noLateFee: false,
            noDisconnection: true,
            reason: '春节期间不停电',
          },
        });
        expect(hold.statusCode).toBe(201);
        const countyWide = await app.inject({
          method: 'POST',
          url: '/api/v1/policy-holds',
          headers: asChecker,
          payload: {
            scope: { kind: 'all' },
            startsOn: '2027-02-01',
            endsOn: '2027-02-28',
            noLateFee: true,
            noDisconnection: true,
            reason: '全县政策',
          },
        });
        expect(countyWide.json().error.code).toBe('forbidden');
        const approval = await app.inject({
          method: 'POST',
          url: `/api/v1/policy-holds/${hold.json().holdId}/approval`,
          headers: asHead,
        });
        expect(approval.statusCode).toBe(200);
        const listed = await app.inject({
          method: 'GET',
          url: '/api/v1/policy-holds?on=2027-02-10',
          headers: asHead,
        });
        expect(listed.json<{ holdId: number }[]>().map((row) => row.holdId)).toContain(hold.json().holdId);
      } finally {
        await app.close();
      }
    });

    it.runIf(kind === 'postgres')(
      'runs the same actions from the CLI under staff logins, and the month-end late fees',
      async () => {
        const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-ledger-cli-'));
        const env = {
          DATABASE_URL: database.url!,
          GRIDCOLLECT_LANG: 'en',
          GRIDCOLLECT_ENCRYPTION_KEY: TEST_KEY_HEX,
          XDG_CONFIG_HOME: path.join(dir, 'config'),
        };
        // Each person acts through their own CLI session.
        const asChecker = await loggedInEnv(env, dir, checker.login);
        const asHead = await loggedInEnv(env, dir, head.login);
        const a = customers[0]!;
        const october = (await open(a.customer_id, '2026-12-20')).find((bill) => bill.period === '2026-10');
        const asked = await cli(
          asChecker,
          'ledger',
          'request',
          '--kind',
          'late-fee-waiver',
          '--customer',
          a.customer_no,
          '--bill',
          october!.billNo,
          '--reason',
          '系统停机期间无法缴费',
          '--as-of',
          '2026-12-20',
          '--json',
        );
        expect(asked.stderr).toBe('');
        expect(asked.code).toBe(0);
        const requestId = JSON.parse(asked.stdout).requestId as number;
        const self = await cli(
          asChecker,
          'ledger',
          'approve',
          '--customer',
          a.customer_no,
          '--request',
          String(requestId),
          '--json',
        );
        expect(self.code).toBe(1);
        expect(self.stderr).toMatch(/forbidden/); // a billing checker does not approve at all
        const approved = await cli(
          asHead,
          'ledger',
          'approve',
          '--customer',
          a.customer_no,
          '--request',
          String(requestId),
          '--as-of',
          '2026-12-20',
          '--json',
        );
        expect(approved.code).toBe(0);
        expect(JSON.parse(approved.stdout).status).toBe('approved');

        const monthEnd = await cli(env, 'late-fee', 'month-end', '--period', '2026-11', '--json');
        expect(monthEnd.code).toBe(0);
        const summary = JSON.parse(monthEnd.stdout);
        expect(summary.asOf).toBe('2026-11-30');
        const snapshot = await sql<{ n: number; fee: number }>`
        select count(*)::int as n, coalesce(sum(late_fee_fen), 0)::int8 as fee from late_fee_snapshot where period = '2026-11'`.execute(
          database.db,
        );
        expect(snapshot.rows[0]).toEqual({ n: summary.inArrears, fee: summary.lateFeeFen });
        expect(summary.inArrears).toBeGreaterThan(0);
        // The written-off customer's September bill is gone from the arrears; October is overdue.
        const d = customers[3]!;
        const [dOctober] = await open(d.customer_id, '2026-11-30');
        const written = await sql<{ p: number; bills: number }>`
        select overdue_principal_fen as p, bills from late_fee_snapshot
        where period = '2026-11' and customer_id = ${d.customer_id}`.execute(database.db);
        expect(written.rows[0]).toEqual({ p: dOctober!.openPrincipalFen, bills: 1 });
        const rerun = await cli(env, 'late-fee', 'month-end', '--period', '2026-11', '--json');
        expect(JSON.parse(rerun.stdout)).toMatchObject({
          inArrears: summary.inArrears,
          partitionsDoneHere: 0,
        });
        expect((await verifyLedger(database.db)).problems).toEqual([]);
        await rm(dir, { recursive: true, force: true });
      },
    );
  },
);

/** The real CLI in-process (test/support/cli-login.ts). */
const cli = (env: Record<string, string>, ...argv: string[]) => cliIn(env, argv);
