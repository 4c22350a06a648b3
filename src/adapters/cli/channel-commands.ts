import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  CHANNEL_KINDS,
  addChannel,
  listChannels,
  rotateChannelSecret,
  setChannelEnabled,
} from '../../app/add-channel.js';
import { exportWithholdingBatch, importWithholdingResult } from '../../app/bank-withholding.js';
import { cashOnHand, closeCounterShift, recordCashDeposit } from '../../app/cash-deposits.js';
import { channelSettlement } from '../../app/queries/channel-settlement.js';
import { listCustomers } from '../../app/queries/list-customers.js';
import { listReconciliationCases } from '../../app/reconciliation-cases.js';
import { addDays, parseLocalDate } from '../../domain/local-date.js';
import { parseYuan } from '../../domain/money.js';
import { simulateChannel } from '../channel-client/channel-simulator.js';
import { fileCodec } from '../files/file-codec.js';
import { ItemsFailed, UsageError } from './cli-errors.js';
import { type CliIo, commandKit } from './command-kit.js';
import { message } from './messages.js';
import { formatTable, progressBar } from './output.js';
import { channelSecretField } from '../../app/sealed-fields.js';

function dateArg(value: string) {
  const parsed = parseLocalDate(value);
  if (!parsed) throw new InvalidArgumentError('must be YYYY-MM-DD');
  return parsed;
}

function share(value: string) {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed <= 1)) throw new InvalidArgumentError('must be a share from 0 to 1');
  return parsed;
}

function wholeNumber(value: string) {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return parsed;
}

function positive(value: string) {
  const parsed = wholeNumber(value);
  if (parsed < 1) throw new InvalidArgumentError('must be at least 1');
  return parsed;
}

function yuanArg(value: string) {
  const parsed = parseYuan(value);
  if (parsed === null || parsed <= 0)
    throw new InvalidArgumentError('must be yuan above 0 with at most 2 decimals, e.g. 50000.00');
  return parsed;
}

/** `channel …` and `bank …`: the channel registry, reconciliation, the simulator, withholding files. */
export function registerChannelCommands(program: Command, io: CliIo): void {
  const kit = commandKit(io);
  const { emitJson, withContext, globals, actor, system } = kit;
  const channel = program.command('channel').description('collection channels (代收渠道)');

  channel
    .command('add')
    .description('register (or re-enable) a collection channel with its secret')
    .requiredOption('--id <id>', 'channel id')
    .option(
      '--secret <secret>',
      'shared secret for request signatures (16+ characters; optional for bank_batch)',
    )
    .option('--name <name>', 'display name')
    .addOption(new Option('--kind <kind>', 'kind of channel').choices([...CHANNEL_KINDS]))
    .addOption(new Option('--encoding <encoding>', 'batch file encoding').choices(['utf-8', 'gbk']))
    .option('--fee-per-txn <fen>', 'fee per payment in fen', wholeNumber)
    .option('--fee-rate <rate>', 'fee as a share of the amount, e.g. 0.001')
    .option('--rate-limit <n>', 'requests per second allowed', positive)
    .option('--retry-rounds <n>', 'withholding retry rounds before the due date', wholeNumber)
    .option(
      '--paid-at-days <n>',
      'business days open to a payment’s paidAt, today included (default 2: today and yesterday)',
      positive,
    )
    .option('--max-amount <yuan>', 'largest amount of one payment (default 1000000.00)', yuanArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const result = await addChannel(
          context.database.db,
          await actor(context, global),
          context.cipher.encrypt,
          {
            channelCode: options.id,
            secret: options.secret,
            name: options.name,
            kind: options.kind,
            fileEncoding: options.encoding,
            feePerTxnFen: options.feePerTxn,
            feeRate: options.feeRate,
            rateLimitPerSecond: options.rateLimit,
            withholdingRetryRounds: options.retryRounds,
            paidAtWindowDays: options.paidAtDays,
            maxPaymentFen: options.maxAmount,
          },
          context.clock.now(),
        );
        if (global.json) emitJson(result);
        else io.out(`${message(kit.lang(global), 'channelSaved', { id: result.channelCode })}\n`);
      });
    });

  channel
    .command('list')
    .description('the channel registry (secrets are never shown)')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const rows = await listChannels(context.database.db, system());
        if (global.json) emitJson(rows);
        else
          io.out(
            formatTable(rows, [
              'channelCode',
              'name',
              'kind',
              'enabled',
              'fileEncoding',
              'feePerTxnFen',
              'feeRate',
              'paidAtWindowDays',
              'maxPaymentFen',
            ]),
          );
      });
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    channel
      .command(name)
      .description(`${name} a channel`)
      .requiredOption('--id <id>', 'channel id')
      .option('--json', 'print one JSON document')
      .action(async (options, command: Command) => {
        const global = globals(command);
        await withContext(async (context) => {
          const result = await setChannelEnabled(
            context.database.db,
            await actor(context, global),
            { channelCode: options.id, enabled },
            context.clock.now(),
          );
          if (global.json) emitJson(result);
          else io.out(`${result.channelCode}: ${enabled ? 'enabled' : 'disabled'}\n`);
        });
      });
  }

  channel
    .command('rotate-secret')
    .description('give a channel a new secret; the old one stays valid for the overlap window')
    .requiredOption('--id <id>', 'channel id')
    .requiredOption('--secret <secret>', 'the new secret (16+ characters)')
    .option('--overlap-hours <h>', 'hours the old secret stays valid', wholeNumber, 24)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const result = await rotateChannelSecret(
          context.database.db,
          await actor(context, global),
          context.cipher.encrypt,
          { channelCode: options.id, secret: options.secret, overlapHours: options.overlapHours },
          context.clock.now(),
        );
        if (global.json) emitJson(result);
        else io.out(`${result.channelCode}: old secret valid until ${result.oldSecretValidUntil}\n`);
      });
    });

  channel
    .command('cases')
    .description('reconciliation discrepancies (对账差错); resolve them in the web UI or the API')
    .option('--channel <id>', 'one channel')
    .addOption(
      new Option('--status <status>', 'only these').choices([
        'open',
        'awaiting_approval',
        'resolved',
        'superseded',
      ]),
    )
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const rows = await listReconciliationCases(context.database.db, system(), {
          channelCode: options.channel,
          status: options.status,
        });
        if (global.json) emitJson(rows);
        else io.out(formatTable(rows, ['caseId', 'channelCode', 'businessDate', 'txnId', 'kind', 'status']));
      });
    });

  channel
    .command('settlement')
    .description('what each channel owes per business day, next to the journal’s channel clearing')
    .option('--channel <id>', 'one channel')
    .option('--from <date>', 'first business day (default: 30 days back)', dateArg)
    .option('--to <date>', 'last business day (default: today)', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const to = options.to ?? context.clock.today();
        const rows = await channelSettlement(context.database.db, system(), {
          channelCode: options.channel,
          from: options.from ?? addDays(to, -30),
          to,
        });
        if (global.json) emitJson(rows);
        else
          io.out(
            formatTable(rows, [
              'channelCode',
              'businessDate',
              'payments',
              'paymentsTotal',
              'reversalsTotal',
              'fees',
              'owed',
              'clearingBalance',
              'agrees',
              'reconciliation',
            ]),
          );
        if (rows.some((row) => !row.agrees))
          throw new ItemsFailed('settlement and journal disagree for some days');
      });
    });

  channel
    .command('simulate')
    .description('act as a bank against a running server: pay, retry, duplicate, reverse, reconcile')
    .requiredOption('--channel <id>', 'channel id (its secret is read from the database)')
    .option('--payments <n>', 'payments to make', positive, 1000)
    .option('--duplicates <share>', 'share of payments sent twice', share, 0.3)
    .option('--reversals <share>', 'share of payments reversed afterwards', share, 0.02)
    .option('--concurrency <n>', 'requests in flight', positive, 32)
    .option('--url <url>', 'server base URL', 'http://127.0.0.1:3000')
    .option('--secret <secret>', 'the channel secret (default: read from the database)')
    .option('--customers <n>', 'owing customers to pay for', positive, 5000)
    .option('--seed <n>', 'random seed', wholeNumber, 1)
    .option('--txn-prefix <prefix>', 'prefix of the txnIds (default: random, so runs never collide)')
    .option('--no-query', 'pay without querying first')
    .option('--no-reconcile', 'do not upload the reconciliation file at the end')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const setup = await withContext(async (context) => {
        let secret: string | undefined = options.secret;
        if (!secret) {
          const row = await context.database.db
            .selectFrom('channel_secret')
            .select(['secret_no', 'secret_encrypted'])
            .where('channel_code', '=', options.channel)
            .where('valid_until', 'is', null)
            .orderBy('secret_no', 'desc')
            .executeTakeFirst();
          if (!row) throw new UsageError(`channel ${options.channel} has no current secret; pass --secret`);
          secret = context.cipher.decrypt(
            row.secret_encrypted,
            channelSecretField(options.channel, row.secret_no),
          );
        }
        const customers = await listCustomers(context.database.db, system(), {
          owing: true,
          limit: options.customers,
        });
        return { secret, customerNos: customers.map((customer) => customer.customerNo) };
      });
      if (setup.customerNos.length === 0) throw new UsageError('no owing customers to pay for');
      const bar = progressBar('simulating', !global.json);
      const report = await simulateChannel({
        baseUrl: options.url.replace(/\/$/, ''),
        channelId: options.channel,
        secret: setup.secret,
        customerNos: setup.customerNos,
        payments: options.payments,
        duplicates: options.duplicates,
        reversals: options.reversals,
        concurrency: options.concurrency,
        seed: options.seed,
        query: options.query,
        reconcile: options.reconcile,
        txnPrefix: options.txnPrefix ?? `SIM${randomBytes(4).toString('hex')}`,
        onProgress: (done, total) => bar.update(done, total),
      });
      bar.stop();
      if (global.json) emitJson(report);
      else
        io.out(
          `payments ${report.acknowledged}/${report.payments} acknowledged in ${report.seconds} s (${report.paymentsPerSecond}/s, p50 ${report.payLatencyMs.p50} ms, p99 ${report.payLatencyMs.p99} ms); duplicates ${report.duplicatesSent}, reversed ${report.reversed}, retries ${report.retries}; reconciliation ${report.clean ? 'clean' : 'NOT clean'}\n`,
        );
      if (!report.clean) throw new ItemsFailed('the simulation did not reconcile cleanly');
    });

  const bank = program.command('bank').description('batch withholding files (代扣)');
  bank
    .command('export')
    .description('write the withholding request file of a bank for a date')
    .requiredOption('--bank <code>', 'bank code (a bank_batch channel)')
    .requiredOption('--date <date>', 'batch date YYYY-MM-DD', dateArg)
    .option('--out <dir>', 'directory for the file', '.')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const batch = await exportWithholdingBatch(
          context.database.db,
          await actor(context, global),
          fileCodec,
          context.cipher.decrypt,
          {
            bankCode: options.bank,
            date: options.date,
          },
        );
        if (!batch) {
          if (global.json) emitJson({ bank: options.bank, date: options.date, count: 0, file: null });
          else io.out(`${options.bank} ${options.date}: nothing to withhold\n`);
          return;
        }
        await mkdir(options.out, { recursive: true });
        const file = path.join(options.out, batch.fileName);
        await writeFile(file, batch.content);
        const { content: _content, ...summary } = batch;
        if (global.json) emitJson({ ...summary, file });
        else io.out(`${file}: ${batch.count} lines, ${batch.total} yuan (${batch.encoding})\n`);
      });
    });

  bank
    .command('import')
    .description('validate a bank result file and post its debited lines (re-import is a no-op)')
    .argument('<file>', 'WR_<bank>_<yyyymmdd>_<batchNo>.txt')
    .option('--chunk <n>', 'payments posted per transaction', positive)
    .option('--json', 'print one JSON document')
    .action(async (file: string, options, command: Command) => {
      const global = globals(command);
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        throw new UsageError(`${file}: ${(error as Error).message}`);
      }
      await withContext(async (context) => {
        const bar = progressBar('posting', !global.json);
        const result = await importWithholdingResult(
          context.database.db,
          await actor(context, global),
          fileCodec,
          context.clock,
          {
            fileName: file,
            bytes,
            ...(options.chunk ? { chunkSize: options.chunk } : {}),
            concurrency: context.database.kind === 'postgres' ? 2 : 1,
            onProgress: (done, total) => bar.update(done, total),
          },
        );
        bar.stop();
        if (global.json) emitJson(result);
        else
          io.out(
            `${result.bankCode} ${result.batchNo}: ${result.debited} debited (${result.debitedTotal} yuan), ${result.failed} failed, ${result.posted} payments posted${result.alreadyImported ? ' (already imported)' : ''}\n`,
          );
      });
    });

  const cash = program.command('cash').description('cash control (解款): deposits and cash on hand');
  cash
    .command('deposit')
    .description('record a bank deposit slip of a collector or cashier (clears their oldest cash first)')
    .requiredOption('--staff <login>', 'the collector or cashier who deposited')
    .requiredOption('--slip <no>', 'bank slip number')
    .requiredOption('--amount <yuan>', 'amount in yuan')
    .requiredOption('--account <account>', 'bank account deposited into')
    .option('--date <date>', 'deposit date (default: today)', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const amountFen = parseYuan(options.amount);
      if (amountFen === null || amountFen <= 0)
        throw new UsageError('--amount: yuan with at most 2 decimals, more than 0');
      await withContext(async (context) => {
        const result = await recordCashDeposit(context.database.db, await actor(context, global), {
          staffLogin: options.staff,
          slipNo: options.slip,
          bankAccount: options.account,
          amountFen,
          depositedOn: options.date ?? context.clock.today(),
        });
        if (global.json) emitJson(result);
        else
          io.out(
            `${result.staffLogin} ${options.slip}: ${result.amount} yuan, ${result.payments} payments; still held ${result.cashOnHand}\n`,
          );
      });
    });
  cash
    .command('close-shift')
    .description('close a cashier’s day (日清日结): compare the counted cash with the day’s counter payments')
    .requiredOption('--staff <login>', 'the cashier')
    .requiredOption('--counted <yuan>', 'cash counted in the drawer')
    .option('--date <date>', 'business day (default: today)', dateArg)
    .option('--note <text>', 'explanation of a difference')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const countedFen = parseYuan(options.counted);
      if (countedFen === null || countedFen < 0)
        throw new UsageError('--counted: yuan with at most 2 decimals');
      await withContext(async (context) => {
        const result = await closeCounterShift(context.database.db, await actor(context, global), {
          staffLogin: options.staff,
          businessDate: options.date ?? context.clock.today(),
          countedFen,
          note: options.note,
        });
        if (global.json) emitJson(result);
        else
          io.out(
            `${result.staffLogin} ${result.businessDate}: ${result.payments} payments, system ${result.systemTotal}, counted ${result.counted}, difference ${result.difference}\n`,
          );
        if (!result.balanced)
          throw new ItemsFailed(`cash difference ${result.difference} recorded for follow-up`);
      });
    });
  cash
    .command('on-hand')
    .description('cash held by each collector and cashier; overdue cash is flagged')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const rows = await cashOnHand(context.database.db, system(), context.clock.today());
        const held = rows.filter((row) => row.cashOnHand !== '0.00');
        if (global.json) emitJson(rows);
        else
          io.out(
            formatTable(held, [
              'staffLogin',
              'name',
              'kind',
              'cashOnHand',
              'undepositedPayments',
              'oldestUndeposited',
              'overdue',
              'alert',
            ]),
          );
      });
    });
}
