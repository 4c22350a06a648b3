import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fileCodec } from '../../src/adapters/files/file-codec.js';
import { addChannel } from '../../src/app/add-channel.js';
import { exportWithholdingBatch, importWithholdingResult } from '../../src/app/bank-withholding.js';
import { AppError } from '../../src/app/errors.js';
import { postPayment } from '../../src/app/post-payment.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { getCustomer } from '../../src/app/queries/get-customer.js';
import { verifyLedger } from '../../src/app/queries/verify-ledger.js';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { formatResultFile } from '../../src/domain/channel/bank-batch-file.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { fen } from '../../src/domain/money.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo, testCipher } from '../support/demo.js';

const DATE = '2026-11-03' as LocalDate;
const clock = fixedClock(new Date('2026-11-04T02:00:00Z'), 'Asia/Shanghai');

describeEachDatabase('bank batch withholding (docs/bank-batch.md)', (kind) => {
  let database: TestDatabase;
  const exportBatch = () =>
    exportWithholdingBatch(database.db, CLI_PRINCIPAL, fileCodec, testCipher.decrypt, {
      bankCode: 'ABC',
      date: DATE,
    });
  const importFile = (
    text: string,
    name = 'WR_ABC_20261104_20261103001.txt',
    encoding: 'utf-8' | 'gbk' = 'gbk',
  ) =>
    importWithholdingResult(database.db, CLI_PRINCIPAL, fileCodec, clock, {
      fileName: name,
      bytes: fileCodec.encode(text, encoding),
    });
  const rejection = async (text: string) => {
    try {
      await importFile(text);
    } catch (error) {
      if (error instanceof AppError && error.code === 'bank_file_rejected') return error.message;
      throw error;
    }
    return 'accepted';
  };
  const payments = async () =>
    Number(
      (await sql<{ n: number }>`select count(*)::int as n from payment`.execute(database.db)).rows[0]!.n,
    );
  const open = async (customerNo: string) =>
    Number(
      (
        await sql<{ owed: number }>`select coalesce(sum(p.amount_fen), 0)::int8 as owed from posting p
          join customer c on c.customer_id = p.customer_id
          where c.customer_no = ${customerNo} and p.ledger_account_code = 'customer_receivable'`.execute(
          database.db,
        )
      ).rows[0]!.owed,
    );

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'test' });
    await releaseBills(database.db, { period: '2026-10' as Period, releasedOn: DATE, actor: CLI_PRINCIPAL });
    await addChannel(
      database.db,
      CLI_PRINCIPAL,
      testCipher.encrypt,
      {
        channelCode: 'ABC',
        name: '农业银行',
        kind: 'bank_batch',
        fileEncoding: 'gbk',
        withholdingRetryRounds: 1,
      },
      new Date('2026-11-01T00:00:00Z'),
    );
  });
  afterAll(() => database?.close());

  it('exports, refuses bad result files whole, posts a good one once, and retries the failed lines', async () => {
    const batch = await exportBatch();
    expect(batch).not.toBeNull();
    const text = fileCodec.decode(batch!.content);
    expect(text.encoding).toBe('gbk');
    const lines = text.text.trimEnd().split('\n');
    expect(lines[0]).toBe(`H|ABC|${batch!.batchNo}|20261103|${batch!.count}|${batch!.total}`);
    expect(lines.at(-1)).toBe(`T|${batch!.count}|${batch!.total}`);
    expect(batch!.fileName).toBe(`WH_ABC_20261103_${batch!.batchNo}.txt`);
    const details = lines.slice(1, -1).map((line) => line.split('|'));
    expect(details.length).toBe(batch!.count);
    expect(details[0]![4]).toMatch(/[\u4e00-\u9fff]/);
    expect(details[0]![3]).toMatch(/^\d{16,19}$/);
    // Exporting again while the batch is open writes the same file.
    const again = await exportBatch();
    expect([again!.created, again!.batchNo, again!.content.equals(batch!.content)]).toEqual([
      false,
      batch!.batchNo,
      true,
    ]);

    // The bank answers: most debited, every fourth line refused for lack of funds.
    const answer = details.map((fields, k) => ({
      seq: Number(fields[1]),
      customerNo: fields[2]!,
      amountFen: fen(Math.round(Number(fields[5]) * 100)),
      code: k % 4 === 3 ? '3001' : '0000',
      bankTxnId: k % 4 === 3 ? '' : `ABC${String(k).padStart(8, '0')}`,
      message: k % 4 === 3 ? '余额不足' : '成功',
    }));
    const good = formatResultFile({
      bankCode: 'ABC',
      batchNo: batch!.batchNo,
      date: '20261104',
      lines: answer,
    });
    const before = await payments();
    const headerTotal = good.split('\n')[0]!.split('|')[5]!;
    expect(await rejection(good.replace(`|${headerTotal}\n`, '|0.01\n'))).toMatch(
      /^line 1: header total 0.01/,
    );
    expect(await rejection(good.split('\n').slice(0, -2).join('\n'))).toMatch(/no trailer/);
    expect(await rejection(good.replace(/\nD\|2\|/, '\nD|1|'))).toBe('line 3: seq 1 repeats line 2');
    const lastDetail = good.trimEnd().split('\n').at(-2)!;
    const dropped = good.replace(`${lastDetail}\n`, '');
    expect(await rejection(dropped)).toMatch(/^line 1: header count/);
    const fields = answer[0]!;
    const changed = formatResultFile({
      bankCode: 'ABC',
      batchNo: batch!.batchNo,
      date: '20261104',
      lines: [{ ...fields, amountFen: fen(fields.amountFen + 1) }, ...answer.slice(1)],
    });
    expect(await rejection(changed)).toMatch(/^line 1: total .* but request batch|^line 2: seq 1 amount/);
    expect(await rejection(good.replace(`|${batch!.batchNo}|`, '|99999|'))).toMatch(
      /does not match the file name/,
    );
    const unknown = await importFile(
      good.replace(`|${batch!.batchNo}|`, '|99999|'),
      'WR_ABC_20261104_99999.txt',
    ).catch((error: AppError) => error.message);
    expect(unknown).toMatch(/^line 1: no request batch 99999 was sent to ABC/);
    expect(await payments()).toBe(before);

    // Posted once, GBK or not; the second import is a no-op.
    const debited = answer.filter((line) => line.code === '0000');
    const result = await importFile(good);
    expect(result).toMatchObject({
      encoding: 'gbk',
      debited: debited.length,
      posted: debited.length,
      alreadyImported: false,
    });
    expect(await payments()).toBe(before + debited.length);
    expect(await importFile(good)).toMatchObject({ posted: 0, alreadyImported: true });
    expect(await payments()).toBe(before + debited.length);
    expect(await open(debited[0]!.customerNo)).toBe(0);
    const failed = answer.find((line) => line.code !== '0000')!;
    expect(await open(failed.customerNo)).toBe(failed.amountFen);
    const stored = await sql<{
      message: string;
    }>`select message from withholding_result where result_code = '3001' limit 1`.execute(database.db);
    expect(stored.rows[0]!.message).toBe('余额不足');
    const detail = await getCustomer(database.db, CLI_PRINCIPAL, failed.customerNo, '2026-11-04');
    expect(detail.withholding?.recentDebits[0]).toMatchObject({
      batchNo: batch!.batchNo,
      debited: false,
      code: '3001',
      message: '余额不足',
      receiptNo: null,
    });

    // A retry round takes only the failed lines; one of them paid at the counter meanwhile is left out.
    const paidElsewhere = answer.filter((line) => line.code !== '0000')[1]!;
    await postPayment(database.db, CLI_PRINCIPAL, {
      idempotencyKey: 'counter:test:1',
      customerNo: paidElsewhere.customerNo,
      amountFen: paidElsewhere.amountFen,
      paidAt: new Date('2026-11-04T10:00:00+08:00'),
      businessDate: '2026-11-04' as LocalDate,
      source: { kind: 'counter', staffId: 0 },
    });
    const retry = await exportBatch();
    const retried = fileCodec
      .decode(retry!.content)
      .text.trimEnd()
      .split('\n')
      .slice(1, -1)
      .map((line) => line.split('|')[2]);
    const failedNos = answer.filter((line) => line.code !== '0000').map((line) => line.customerNo);
    expect(retry!.batchNo).not.toBe(batch!.batchNo);
    expect(retried.sort()).toEqual(failedNos.filter((no) => no !== paidElsewhere.customerNo).sort());

    // The bank debits a customer who has meanwhile paid elsewhere: the money is posted, not lost,
    // and lands as prepaid balance.
    const retryLines = fileCodec
      .decode(retry!.content)
      .text.trimEnd()
      .split('\n')
      .slice(1, -1)
      .map((line) => line.split('|'));
    const target = retryLines[0]!;
    await postPayment(database.db, CLI_PRINCIPAL, {
      idempotencyKey: 'counter:test:2',
      customerNo: target[2]!,
      amountFen: fen(Math.round(Number(target[5]) * 100)),
      paidAt: new Date('2026-11-04T11:00:00+08:00'),
      businessDate: '2026-11-04' as LocalDate,
      source: { kind: 'counter', staffId: 0 },
    });
    const retryAnswer = formatResultFile({
      bankCode: 'ABC',
      batchNo: retry!.batchNo,
      date: '20261104',
      lines: retryLines.map((f, k) => ({
        seq: Number(f[1]),
        customerNo: f[2]!,
        amountFen: fen(Math.round(Number(f[5]) * 100)),
        code: '0000',
        bankTxnId: `ABCR${k}`,
        message: '成功',
      })),
    });
    const retried2 = await importFile(retryAnswer, `WR_ABC_20261104_${retry!.batchNo}.txt`, 'utf-8');
    expect(retried2).toMatchObject({ encoding: 'utf-8', posted: retryLines.length });
    const prepaid = await sql<{
      prepaid: number;
    }>`select -coalesce(sum(p.amount_fen), 0)::int8 as prepaid from posting p
      join customer c on c.customer_id = p.customer_id
      where c.customer_no = ${target[2]!} and p.ledger_account_code = 'customer_prepaid'`.execute(
      database.db,
    );
    expect(Number(prepaid.rows[0]!.prepaid)).toBe(Math.round(Number(target[5]) * 100));
    // Nothing left to withhold for the period now; the ledger still verifies.
    expect(await exportBatch()).toBeNull();
    expect((await verifyLedger(database.db)).problems).toEqual([]);
  });
});
