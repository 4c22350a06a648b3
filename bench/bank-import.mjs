// Batch withholding at county scale on PostgreSQL (fsync on): every customer of a demo county
// signs with one bank, the request file is exported, the bank answers (10% refused), and the
// result file is imported and posted. Prints the time of each step.
//   node bench/bank-import.mjs --customers 200000
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { fileCodec } from '../dist/adapters/files/file-codec.js';
import { createFieldCipher } from '../dist/adapters/crypto/field-cipher.js';
import { withholdingAccountField } from '../dist/app/sealed-fields.js';
import { openDatabase } from '../dist/db/database.js';
import { addChannel } from '../dist/app/add-channel.js';
import { exportWithholdingBatch, importWithholdingResult } from '../dist/app/bank-withholding.js';
import { CLI_PRINCIPAL } from '../dist/app/principal.js';
import { formatResultFile } from '../dist/domain/channel/bank-batch-file.js';
import { billedCounty, freshDatabase, machine, parseArgs, postgresServer } from './support.mjs';

const options = parseArgs(process.argv.slice(2), { customers: 207000, chunk: 5000, concurrency: 2 });
const server = postgresServer();
const cipher = createFieldCipher(randomBytes(32));
const database = await openDatabase({
  kind: 'postgres',
  url: await freshDatabase(server.url, 'gc_bench_bank'),
  poolSize: 6,
});
const clock = {
  now: () => new Date('2026-11-04T02:00:00Z'),
  today: () => '2026-11-04',
  dateOf: () => '2026-11-04',
};
try {
  await billedCounty(database.db, { customers: options.customers, encrypt: cipher.encrypt });
  await addChannel(
    database.db,
    CLI_PRINCIPAL,
    cipher.encrypt,
    { channelCode: 'BENCHBANK', kind: 'bank_batch', fileEncoding: 'gbk' },
    new Date('2026-11-01T00:00:00Z'),
  );
  // Each ciphertext is bound to its row (table, column, id), so every account gets its own.
  const accounts = await sql`select customer_id, customer_account_id from customer_account`.execute(
    database.db,
  );
  const sealed = accounts.rows.map((row) => ({
    ...row,
    sealed: cipher.encrypt(
      '6228480012345678901',
      withholdingAccountField(row.customer_id, row.customer_account_id),
    ),
  }));
  await sql`update customer_account a set withholding_bank_code = 'BENCHBANK', withholding_account_no_encrypted = v.sealed,
      withholding_account_no_masked = '622848******8901', withholding_account_name = c.name, withholding_signed_on = '2026-01-01'
    from customer c, jsonb_to_recordset(${JSON.stringify(sealed)}::jsonb) as v(customer_id bigint, customer_account_id bigint, sealed text)
    where c.customer_id = a.customer_id and v.customer_id = a.customer_id and v.customer_account_id = a.customer_account_id`.execute(
    database.db,
  );

  let t0 = performance.now();
  const batch = await exportWithholdingBatch(database.db, CLI_PRINCIPAL, fileCodec, cipher.decrypt, {
    bankCode: 'BENCHBANK',
    date: '2026-11-03',
  });
  const exportSeconds = (performance.now() - t0) / 1000;
  const lines = fileCodec
    .decode(batch.content)
    .text.trimEnd()
    .split('\n')
    .slice(1, -1)
    .map((line, k) => {
      const fields = line.split('|');
      const refused = k % 10 === 9;
      return {
        seq: Number(fields[1]),
        customerNo: fields[2],
        amountFen: Math.round(Number(fields[5]) * 100),
        code: refused ? '3001' : '0000',
        bankTxnId: refused ? '' : `B${k}`,
        message: refused ? '余额不足' : '成功',
      };
    });
  const result = fileCodec.encode(
    formatResultFile({ bankCode: 'BENCHBANK', batchNo: batch.batchNo, date: '20261104', lines }),
    'gbk',
  );
  t0 = performance.now();
  const imported = await importWithholdingResult(database.db, CLI_PRINCIPAL, fileCodec, clock, {
    fileName: `WR_BENCHBANK_20261104_${batch.batchNo}.txt`,
    bytes: result,
    chunkSize: options.chunk,
    concurrency: options.concurrency,
  });
  const importSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const again = await importWithholdingResult(database.db, CLI_PRINCIPAL, fileCodec, clock, {
    fileName: `WR_BENCHBANK_20261104_${batch.batchNo}.txt`,
    bytes: result,
  });
  const reimportSeconds = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      bench: 'bank-batch-withholding',
      backend: 'postgres',
      machine: machine(),
      lines: lines.length,
      exportSeconds: Math.round(exportSeconds * 100) / 100,
      importSeconds: Math.round(importSeconds * 100) / 100,
      importLinesPerSecond: Math.round(lines.length / importSeconds),
      posted: imported.posted,
      reimportSeconds: Math.round(reimportSeconds * 100) / 100,
      reimportPosted: again.posted,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
} finally {
  await database.close();
  server.stop();
}
