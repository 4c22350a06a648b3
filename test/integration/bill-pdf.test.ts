import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalForLogin } from '../../src/app/log-in.js';
import { postPayment } from '../../src/app/post-payment.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { reversePayment } from '../../src/app/reverse-payment.js';
import { fen } from '../../src/domain/money.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, testedDatabaseKinds } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';
import { buildTestServer, loginToken } from '../support/server.js';

const FONT = '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc';
const PDFTOTEXT = '/usr/bin/pdftotext';
// CI installs the font and poppler-utils and sets this, so that their absence fails the run.
const REQUIRED = process.env.GRIDCOLLECT_REQUIRE_SYSTEM_DEPS === '1';
const available = existsSync(FONT) && existsSync(PDFTOTEXT);

function pdfText(pdf: Buffer): string {
  return execFileSync(PDFTOTEXT, ['-layout', '-', '-'], { input: pdf }).toString('utf8');
}

for (const kind of testedDatabaseKinds()) {
  describe.skipIf(!available && !REQUIRED)(`bill documents (PDF) [${kind}]`, () => {
    let database: TestDatabase;
    let app: FastifyInstance;
    let token: string;
    beforeAll(async () => {
      if (!available)
        throw new Error(`PDF tests need ${FONT} (fonts-wqy-microhei) and ${PDFTOTEXT} (poppler-utils)`);
      database = await createTestDatabase(kind);
      await createSmallDemo(database.db);
      await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
      await releaseBills(database.db, {
        period: '2026-10' as Period,
        releasedOn: '2026-11-03' as LocalDate,
        actor: CLI_PRINCIPAL,
      });
      app = await buildTestServer(database);
      token = await loginToken(app, 's01.cashier1');
    });
    afterAll(async () => {
      await app?.close();
      await database?.close();
    });

    it('prints a customer’s bill in Chinese with its lines, total in capitals and due date', async () => {
      const bills = await database.db
        .selectFrom('bill')
        .innerJoin('customer', 'customer.customer_id', 'bill.customer_id')
        .innerJoin('bill_release', (join) =>
          join
            .onRef('bill_release.customer_id', '=', 'bill.customer_id')
            .onRef('bill_release.bill_id', '=', 'bill.bill_id'),
        )
        .select(['customer.customer_no', 'bill.amount_fen', 'bill_release.bill_no', 'bill_release.due_on'])
        .where('customer.station_id', '=', 11)
        .where('bill.period', '=', '2026-10')
        .limit(1)
        .execute();
      const bill = bills[0]!;
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/customers/${bill.customer_no}/bills/2026-10/pdf`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/pdf');
      const text = pdfText(response.rawPayload);
      expect(text).toContain('电费通知单');
      expect(text).toContain(bill.customer_no);
      expect(text).toContain(bill.bill_no);
      expect(text).toContain(bill.due_on);
      const yuan = `${Math.trunc(bill.amount_fen / 100)}.${String(bill.amount_fen % 100).padStart(2, '0')}`;
      expect(text).toContain(`¥${yuan}`);
      expect(text).toMatch(/大写：[零壹贰叁肆伍陆柒捌玖拾佰仟万元角分整]+/);
      expect(text).toMatch(/其中代征政府性基金及附加 ¥\d+\.\d{2}/);
    });

    it('prints a payment’s electronic receipt: what it settled, the amount in capitals, and a reversal', async () => {
      const cashier = await principalForLogin(database.db, 's01.cashier1');
      const row = await database.db
        .selectFrom('customer')
        .select('customer_no')
        .where('station_id', '=', 11)
        .orderBy('customer_id')
        .executeTakeFirstOrThrow();
      const paid = await postPayment(database.db, cashier, {
        idempotencyKey: 'counter:PDF-1',
        customerNo: row.customer_no,
        amountFen: fen(123_456),
        paidAt: new Date('2026-11-10T02:00:00Z'),
        businessDate: '2026-11-10' as LocalDate,
        source: { kind: 'counter', staffId: cashier.staffId! },
      });
      const url = `/api/v1/customers/${row.customer_no}/payments/${paid.receiptNo}/receipt.pdf`;
      const response = await app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(200);
      const text = pdfText(response.rawPayload);
      expect(text).toContain('电费电子收费凭证');
      expect(text).toContain(paid.receiptNo);
      expect(text).toContain('¥1234.56');
      expect(text).toContain('壹仟贰佰叁拾肆元伍角陆分');
      expect(text).toContain(paid.allocations[0]!.billNo);
      expect(text).toContain('预收电费');
      expect(text).toContain('2026/11/10 10:00:00'); // paid at 02:00 UTC, shown in Beijing time
      expect(text).not.toContain('已冲正');
      await reversePayment(database.db, cashier, {
        idempotencyKey: 'counter:PDF-1',
        reason: '金额录错',
        businessDate: '2026-11-10' as LocalDate,
      });
      const after = pdfText(
        (await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })).rawPayload,
      );
      expect(after).toContain('已冲正');
      expect(after).toContain('金额录错');
    });

    it('prints a transformer area’s bill list for its electrician', async () => {
      const area = await database.db
        .selectFrom('area')
        .select('code')
        .where('station_id', '=', 11)
        .where('kind', '=', 'transformer_area')
        .orderBy('code')
        .executeTakeFirstOrThrow();
      const response = await app.inject({
        method: 'GET',
        url: `/api/v1/areas/${area.code}/bill-list.pdf?period=2026-10`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.statusCode).toBe(200);
      const text = pdfText(response.rawPayload);
      expect(text).toContain('台区电费清单');
      expect(text).toMatch(/共 \d+ 户/);
    });
  });
}
