import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import { copyRows } from '../db/raw-commands.js';
import type { DB } from '../db/schema.js';
import {
  BankFileError,
  type ResultFile,
  SUCCESS_CODE,
  formatRequestFile,
  parseResultFile,
  requestFileName,
} from '../domain/channel/bank-batch-file.js';
import { type LocalDate, parseLocalDate } from '../domain/local-date.js';
import { type Fen, fen, formatYuan } from '../domain/money.js';
import { AppError } from './errors.js';
import { latestRevisionSql, principalSettledSql } from './ledger/customer-state.js';
import type { Clock, Decrypt } from './ports.js';
import { postPaymentsInBulk } from './post-payments-in-bulk.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';
import { withholdingAccountField } from './sealed-fields.js';

/** Text ↔ bytes in the bank's encoding (iconv-lite in the adapter; the app layer stays pure). */
export interface FileCodec {
  encode(text: string, encoding: 'utf-8' | 'gbk'): Buffer;
  /** Detects UTF-8 (valid UTF-8, BOM allowed) or else GBK, and decodes. */
  decode(bytes: Buffer): { text: string; encoding: 'utf-8' | 'gbk' };
}

export interface ExportedBatch {
  readonly bankCode: string;
  readonly batchNo: string;
  readonly fileName: string;
  readonly encoding: 'utf-8' | 'gbk';
  readonly count: number;
  readonly total: string;
  readonly content: Buffer;
  /** False when an open batch of that bank and date existed and was written again. */
  readonly created: boolean;
}

async function batchBank(db: Kysely<DB>, bankCode: string) {
  const bank = await db
    .selectFrom('channel')
    .select(['channel_code', 'name', 'kind', 'enabled', 'file_encoding', 'withholding_retry_rounds'])
    .where('channel_code', '=', bankCode)
    .executeTakeFirst();
  if (bank?.kind !== 'bank_batch')
    throw new AppError(
      'not_found',
      `bank ${bankCode} is not registered for batch withholding (gridcollect channel add --id ${bankCode} --kind bank_batch)`,
    );
  if (!bank.enabled) throw new AppError('channel_disabled', `bank ${bankCode} is disabled`);
  return bank;
}

const compact = (date: string) => date.replaceAll('-', '');

/**
 * Writes the withholding request file (代扣文件) of a bank for a date (docs/bank-batch.md): one line per
 * customer with an agreement with that bank, for the released bills still open and not yet due,
 * never a bill already paid or sitting in another open batch, and no bill beyond its attempts
 * (first debit plus the bank's retry rounds). Exporting again while that batch is open writes the
 * same file. Errors: forbidden, not_found, channel_disabled.
 */
export async function exportWithholdingBatch(
  db: Kysely<DB>,
  principal: Principal,
  codec: FileCodec,
  decrypt: Decrypt,
  input: { readonly bankCode: string; readonly date: LocalDate },
): Promise<ExportedBatch | null> {
  requirePermission(principal, 'withholding.run');
  const bank = await batchBank(db, input.bankCode);
  return db.transaction().execute(async (trx) => {
    // One exporter per bank at a time.
    await sql`select pg_advisory_xact_lock(hashtext('withholding'), hashtext(${input.bankCode}))`.execute(
      trx,
    );
    const open = await trx
      .selectFrom('withholding_batch as b')
      .selectAll('b')
      .where('b.bank_code', '=', input.bankCode)
      .where('b.batch_date', '=', input.date)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('withholding_result_file as f')
              .select('f.batch_no')
              .whereRef('f.bank_code', '=', 'b.bank_code')
              .whereRef('f.batch_no', '=', 'b.batch_no'),
          ),
        ),
      )
      .executeTakeFirst();
    if (open) return rewriteBatch(trx, codec, decrypt, bank.file_encoding, open);

    const rows = await sql<{
      customer_id: number;
      customer_account_id: number;
      customer_no: string;
      account_no_encrypted: string;
      account_no_masked: string;
      account_name: string;
      bill_id: number;
      open_fen: number;
    }>`
      select c.customer_id, a.customer_account_id, c.customer_no, a.withholding_account_no_encrypted as account_no_encrypted,
        a.withholding_account_no_masked as account_no_masked, a.withholding_account_name as account_name,
        b.bill_id, (b.amount_fen - coalesce(p.paid, 0))::bigint as open_fen
      from customer_account a
      join customer c on c.customer_id = a.customer_id
      join bill b on b.customer_id = a.customer_id
      join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
      left join lateral ${principalSettledSql()} p on true
      where a.withholding_bank_code = ${input.bankCode}
        and a.withholding_signed_on <= ${input.date}::date
        and r.released_on <= ${input.date}::date
        and r.due_on >= ${input.date}::date
        and ${latestRevisionSql()}
        and b.amount_fen - coalesce(p.paid, 0) > 0
        and not exists (
          select 1 from withholding_line_bill lb
          where lb.customer_id = b.customer_id and lb.bill_id = b.bill_id
            and not exists (select 1 from withholding_result_file f
                            where f.bank_code = lb.bank_code and f.batch_no = lb.batch_no))
        and (select count(*) from withholding_line_bill lb
             where lb.customer_id = b.customer_id and lb.bill_id = b.bill_id) < ${1 + bank.withholding_retry_rounds}
      order by c.customer_no, r.due_on, b.bill_id`.execute(trx);
    if (rows.rows.length === 0) return null;

    const lines: {
      customerId: number;
      customerAccountId: number;
      customerNo: string;
      accountNoEncrypted: string;
      accountNoMasked: string;
      accountName: string;
      amountFen: number;
      billIds: number[];
    }[] = [];
    for (const row of rows.rows) {
      const last = lines.at(-1);
      if (last && last.customerId === row.customer_id) {
        last.amountFen += Number(row.open_fen);
        last.billIds.push(row.bill_id);
      } else {
        lines.push({
          customerId: row.customer_id,
          customerAccountId: row.customer_account_id,
          customerNo: row.customer_no,
          accountNoEncrypted: row.account_no_encrypted,
          accountNoMasked: row.account_no_masked,
          accountName: row.account_name,
          amountFen: Number(row.open_fen),
          billIds: [row.bill_id],
        });
      }
    }
    const sameDay = await trx
      .selectFrom('withholding_batch')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('bank_code', '=', input.bankCode)
      .where('batch_date', '=', input.date)
      .executeTakeFirstOrThrow();
    const batchNo = `${compact(input.date)}${String(Number(sameDay.n) + 1).padStart(3, '0')}`;
    const total = lines.reduce((sum, line) => sum + line.amountFen, 0);
    const fileName = requestFileName(input.bankCode, compact(input.date), batchNo);
    await trx
      .insertInto('withholding_batch')
      .values({
        bank_code: input.bankCode,
        batch_no: batchNo,
        batch_date: input.date,
        file_name: fileName,
        line_count: lines.length,
        total_fen: total,
      })
      .execute();
    for (let k = 0; k < lines.length; k += 1000) {
      const chunk = lines.slice(k, k + 1000);
      await trx
        .insertInto('withholding_line')
        .values(
          chunk.map((line, j) => ({
            customer_id: line.customerId,
            bank_code: input.bankCode,
            batch_no: batchNo,
            seq: k + j + 1,
            account_no_masked: line.accountNoMasked,
            account_name: line.accountName,
            amount_fen: line.amountFen,
          })),
        )
        .execute();
      await trx
        .insertInto('withholding_line_bill')
        .values(
          chunk.flatMap((line) =>
            line.billIds.map((billId) => ({
              customer_id: line.customerId,
              bank_code: input.bankCode,
              batch_no: batchNo,
              bill_id: billId,
            })),
          ),
        )
        .execute();
    }
    await recordAudit(trx, principal, {
      action: 'withholding.export',
      objectType: 'withholding_batch',
      objectId: `${input.bankCode}:${batchNo}`,
      details: { lines: lines.length, totalFen: total, date: input.date },
    });
    const text = formatRequestFile({
      bankCode: input.bankCode,
      batchNo,
      date: compact(input.date),
      lines: lines.map((line, k) => ({
        seq: k + 1,
        customerNo: line.customerNo,
        accountNo: decrypt(
          line.accountNoEncrypted,
          withholdingAccountField(line.customerId, line.customerAccountId),
        ),
        accountName: line.accountName,
        amountFen: fen(line.amountFen),
      })),
    });
    return {
      bankCode: input.bankCode,
      batchNo,
      fileName,
      encoding: bank.file_encoding,
      count: lines.length,
      total: formatYuan(fen(total)),
      content: codec.encode(text, bank.file_encoding),
      created: true,
    };
  });
}

async function rewriteBatch(
  trx: Kysely<DB>,
  codec: FileCodec,
  decrypt: Decrypt,
  encoding: 'utf-8' | 'gbk',
  batch: { bank_code: string; batch_no: string; batch_date: string; file_name: string; total_fen: number },
): Promise<ExportedBatch> {
  const lines = await sql<{
    seq: number;
    customer_id: number;
    customer_account_id: number;
    customer_no: string;
    account_no_encrypted: string;
    account_name: string;
    amount_fen: number;
  }>`
    select l.seq, l.customer_id, a.customer_account_id, c.customer_no, a.withholding_account_no_encrypted as account_no_encrypted, l.account_name, l.amount_fen
    from withholding_line l
    join customer c on c.customer_id = l.customer_id
    join customer_account a on a.customer_id = l.customer_id and a.withholding_bank_code = l.bank_code
    where l.bank_code = ${batch.bank_code} and l.batch_no = ${batch.batch_no}
    order by l.seq`.execute(trx);
  const text = formatRequestFile({
    bankCode: batch.bank_code,
    batchNo: batch.batch_no,
    date: compact(batch.batch_date),
    lines: lines.rows.map((line) => ({
      seq: line.seq,
      customerNo: line.customer_no,
      accountNo: decrypt(
        line.account_no_encrypted,
        withholdingAccountField(line.customer_id, line.customer_account_id),
      ),
      accountName: line.account_name,
      amountFen: fen(Number(line.amount_fen)),
    })),
  });
  return {
    bankCode: batch.bank_code,
    batchNo: batch.batch_no,
    fileName: batch.file_name,
    encoding,
    count: lines.rows.length,
    total: formatYuan(fen(Number(batch.total_fen))),
    content: codec.encode(text, encoding),
    created: false,
  };
}

export interface ImportedResult {
  readonly bankCode: string;
  readonly batchNo: string;
  readonly encoding: 'utf-8' | 'gbk';
  readonly lines: number;
  readonly debited: number;
  readonly debitedTotal: string;
  readonly failed: number;
  /** Payments posted by this import (0 when the file had been imported before). */
  readonly posted: number;
  readonly alreadyImported: boolean;
}

function reject(lineNo: number, reason: string): never {
  throw new AppError('bank_file_rejected', lineNo > 0 ? `line ${lineNo}: ${reason}` : reason, { lineNo });
}

/**
 * Imports a bank's result file (回盘, docs/bank-batch.md): the file is checked whole — encoding
 * detected, header, trailer, counts and totals against its lines and against the request batch
 * it answers — and refused with the line and reason on any error, nothing posted. Each debited
 * line becomes a payment through the one posting path (key bank:batch:seq, so a rerun after a
 * crash posts only what is missing); failed lines stay in arrears with the bank's reason. The
 * same file imported again posts nothing.
 * Errors: forbidden, bank_file_rejected, not_found.
 */
export async function importWithholdingResult(
  db: Kysely<DB>,
  principal: Principal,
  codec: FileCodec,
  clock: Clock,
  input: {
    readonly fileName: string;
    readonly bytes: Buffer;
    /** Payments posted per transaction (default 5000). */
    readonly chunkSize?: number;
    /** Transactions at once (PostgreSQL; default 1). */
    readonly concurrency?: number;
    readonly onProgress?: (done: number, total: number) => void;
  },
): Promise<ImportedResult> {
  requirePermission(principal, 'withholding.run');
  const { text, encoding } = codec.decode(input.bytes);
  let file: ResultFile;
  try {
    file = parseResultFile(text);
  } catch (error) {
    if (error instanceof BankFileError) reject(error.lineNo, error.reason);
    throw error;
  }
  const named = /^WR_([^_]+)_(\d{8})_(.+)\.txt$/i.exec(input.fileName.split(/[\\/]/).at(-1) ?? '');
  if (named && (named[1] !== file.bankCode || named[3] !== file.batchNo))
    reject(
      1,
      `the header (${file.bankCode}, ${file.batchNo}) does not match the file name ${input.fileName}`,
    );
  const bank = await batchBank(db, file.bankCode).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'not_found') reject(1, error.message);
    throw error;
  });
  const batch = await db
    .selectFrom('withholding_batch')
    .selectAll()
    .where('bank_code', '=', file.bankCode)
    .where('batch_no', '=', file.batchNo)
    .executeTakeFirst();
  if (!batch) reject(1, `no request batch ${file.batchNo} was sent to ${file.bankCode}`);
  const hash = createHash('sha256').update(input.bytes).digest('hex');
  const summary = (posted: number, alreadyImported: boolean): ImportedResult => ({
    bankCode: file.bankCode,
    batchNo: file.batchNo,
    encoding,
    lines: file.lines.length,
    debited: file.successCount,
    debitedTotal: formatYuan(file.successTotalFen),
    failed: file.lines.length - file.successCount,
    posted,
    alreadyImported,
  });
  const done = await db
    .selectFrom('withholding_result_file')
    .selectAll()
    .where('bank_code', '=', file.bankCode)
    .where('batch_no', '=', file.batchNo)
    .executeTakeFirst();
  if (done) {
    if (done.file_hash === hash) return summary(0, true);
    reject(
      0,
      `batch ${file.batchNo} was already answered by ${done.file_name}; a second, different result is refused`,
    );
  }
  if (file.count !== batch.line_count)
    reject(1, `count ${file.count} but request batch ${file.batchNo} has ${batch.line_count} lines`);
  if (file.totalFen !== Number(batch.total_fen))
    reject(
      1,
      `total ${formatYuan(file.totalFen)} but request batch ${file.batchNo} totals ${formatYuan(fen(Number(batch.total_fen)))}`,
    );
  const requested = await sql<{ seq: number; customer_id: number; customer_no: string; amount_fen: number }>`
    select l.seq, l.customer_id, c.customer_no, l.amount_fen from withholding_line l
    join customer c on c.customer_id = l.customer_id
    where l.bank_code = ${file.bankCode} and l.batch_no = ${file.batchNo}`.execute(db);
  const bySeq = new Map(requested.rows.map((row) => [row.seq, row]));
  for (const line of file.lines) {
    const asked = bySeq.get(line.seq);
    if (!asked) reject(line.lineNo, `seq ${line.seq} is not in request batch ${file.batchNo}`);
    if (asked.customer_no !== line.customerNo)
      reject(
        line.lineNo,
        `seq ${line.seq} was requested for customer ${asked.customer_no}, not ${line.customerNo}`,
      );
    if (Number(asked.amount_fen) !== line.amountFen)
      reject(
        line.lineNo,
        `seq ${line.seq} amount ${formatYuan(line.amountFen)} but ${formatYuan(fen(Number(asked.amount_fen)))} was requested`,
      );
  }
  const businessDate =
    parseLocalDate(`${file.date.slice(0, 4)}-${file.date.slice(4, 6)}-${file.date.slice(6, 8)}`) ??
    clock.today();
  const successes = file.lines.filter((line) => line.code === SUCCESS_CODE);
  const bulk = await postPaymentsInBulk(
    db,
    principal,
    successes.map((line) => ({
      idempotencyKey: `bank:${file.bankCode}:${file.batchNo}:${line.seq}`,
      customerNo: line.customerNo,
      amountFen: line.amountFen as Fen,
      paidAt: clock.now(),
      businessDate: businessDate as LocalDate,
      source: { kind: 'channel' as const, channelCode: file.bankCode, txnId: line.bankTxnId },
    })),
    {
      chunkSize: input.chunkSize ?? 5000,
      // A result file names each customer once (checked against the request batch).
      concurrency: input.concurrency ?? 1,
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    },
  );
  const posted = bulk.posted;
  const receipts = new Map(
    successes.map((line) => [
      line.seq,
      bulk.receipts.get(`bank:${file.bankCode}:${file.batchNo}:${line.seq}`),
    ]),
  );
  await db.transaction().execute(async (trx) => {
    // The file row is claimed first: a concurrent import of the same batch waits, then stops here.
    const inserted = await trx
      .insertInto('withholding_result_file')
      .values({
        bank_code: file.bankCode,
        batch_no: file.batchNo,
        file_hash: hash,
        file_name: input.fileName.split(/[\\/]/).at(-1) ?? input.fileName,
        success_count: file.successCount,
        success_total_fen: file.successTotalFen,
        failed_count: file.lines.length - file.successCount,
      })
      .onConflict((conflict) => conflict.doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0)
      reject(0, `batch ${file.batchNo} was answered by another import at the same time`);
    await copyRows(
      trx,
      'withholding_result',
      [
        'customer_id',
        'bank_code',
        'batch_no',
        'seq',
        'amount_fen',
        'result_code',
        'bank_txn_id',
        'message',
        'receipt_no',
      ],
      file.lines.map((line) => [
        bySeq.get(line.seq)!.customer_id,
        file.bankCode,
        file.batchNo,
        line.seq,
        line.amountFen,
        line.code,
        line.bankTxnId,
        line.message,
        receipts.get(line.seq) ?? null,
      ]),
    );
    await recordAudit(trx, principal, {
      action: 'withholding.import',
      objectType: 'withholding_batch',
      objectId: `${file.bankCode}:${file.batchNo}`,
      details: {
        lines: file.lines.length,
        debited: file.successCount,
        debitedTotalFen: file.successTotalFen,
        posted,
        bank: bank.channel_code,
      },
    });
  });
  return summary(posted, false);
}
