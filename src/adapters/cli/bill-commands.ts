import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { Command } from 'commander';
import { areaBillList, billDocument } from '../../app/queries/bill-document.js';
import { parseLocalDate } from '../../domain/local-date.js';
import { fen, formatYuan } from '../../domain/money.js';
import { approveRebill, requestRebill } from '../../jobs/billing/rebill-bill.js';
import { releaseBills } from '../../jobs/billing/release-bills.js';
import { runBilling } from '../../jobs/billing/run-billing.js';
import { ItemsFailed, UsageError } from './cli-errors.js';
import {
  type CliIo,
  commandKit,
  pdfRendering,
  periodArg,
  positiveInt,
  stationFilter,
  stationOption,
} from './command-kit.js';
import { message } from './messages.js';
import { progressBar } from './output.js';

/** `bill …`: the billing run, release, rebill and the bill PDFs. */
export function registerBillCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang, actor, system } = commandKit(io);
  const bill = program.command('bill').description('billing run (电费核算) and release (电费发行)');
  bill
    .command('run')
    .description(
      'bill every customer due in the period (drafts); customers with held reads go to the exception queue',
    )
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .addOption(stationOption())
    .option('--dry-run', 'run the real path and roll it back')
    .option('--concurrency <n>', 'partitions at once (PostgreSQL)', positiveInt('--concurrency'))
    .option(
      '--partition-size <n>',
      'customers per partition of a new run (default 5000; a running run keeps its own)',
      positiveInt('--partition-size'),
    )
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const bar = progressBar(message(lang(global), 'billing'), !global.json);
        const summary = await runBilling(context.database.db, {
          period: options.period,
          ...(options.partitionSize ? { partitionSize: options.partitionSize } : {}),
          ...(await stationFilter(context, options.station)),
          dryRun: Boolean(options.dryRun),
          concurrency: options.concurrency ?? (context.database.kind === 'postgres' ? 2 : 1),
          worker: `${os.hostname()}:${process.pid}`,
          onProgress: (done, total) => bar.update(done, total),
        }).finally(() => bar.stop());
        const result = { ...summary, amount: formatYuan(fen(summary.amountFen)) };
        if (global.json) emitJson(result);
        else
          io.out(
            `${message(lang(global), 'billed', { period: summary.period, billed: summary.billed, held: summary.held, failed: summary.failed, amount: result.amount })}\n`,
          );
        if (summary.failed > 0) throw new ItemsFailed(`${summary.failed} customers could not be billed`);
      });
    });
  bill
    .command('release')
    .description('release the period’s reviewed drafts: bill numbers, due dates, receivables')
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .addOption(stationOption())
    .option('--on <date>', 'release date (default: today)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const releasedOn = options.on ? parseLocalDate(options.on) : context.clock.today();
        if (!releasedOn) throw new UsageError('--on must be a date YYYY-MM-DD');
        const summary = await releaseBills(context.database.db, {
          period: options.period,
          ...(await stationFilter(context, options.station)),
          releasedOn,
          actor: await actor(context, global),
        });
        const result = { ...summary, amount: formatYuan(fen(summary.amountFen)) };
        if (global.json) emitJson(result);
        else
          io.out(
            `${message(lang(global), 'released', { period: summary.period, released: summary.released, amount: result.amount })}\n`,
          );
      });
    });
  bill
    .command('rebill')
    .description(
      'ask for a rebill (退补) of a released bill, with the reason; a second person approves it (bill rebill-approve)',
    )
    .requiredOption('--customer <no>', 'customer number (户号)')
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .requiredOption('--reason <text>', 'why the bill is wrong')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const request = await requestRebill(context.database.db, await actor(context, global), {
          customerNo: options.customer,
          period: options.period,
          reason: options.reason,
        });
        if (global.json) emitJson({ customerNo: options.customer, ...request });
        else
          io.out(
            `${message(lang(global), 'rebillRequested', { request: request.rebillRequestId, customer: options.customer })}\n`,
          );
      });
    });
  bill
    .command('rebill-approve')
    .description(
      'approve a rebill request (not by its requester): reverse the bill and issue the next revision',
    )
    .requiredOption('--customer <no>', 'customer number (户号)')
    .requiredOption('--request <id>', 'the rebill request number', positiveInt('--request'))
    .option('--on <date>', 'date of the corrected bill (default: today)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const on = options.on ? parseLocalDate(options.on) : context.clock.today();
        if (!on) throw new UsageError('--on must be a date YYYY-MM-DD');
        const result = await approveRebill(context.database.db, await actor(context, global), {
          customerNo: options.customer,
          rebillRequestId: options.request,
          releasedOn: on,
        });
        const shaped = {
          ...result,
          oldAmount: formatYuan(fen(result.oldAmountFen)),
          newAmount: formatYuan(fen(result.newAmountFen)),
        };
        if (global.json) emitJson(shaped);
        else
          io.out(
            `${message(lang(global), 'rebilled', { old: shaped.oldBillNo, oldAmount: shaped.oldAmount, new: shaped.newBillNo, newAmount: shaped.newAmount })}\n`,
          );
      });
    });

  bill
    .command('pdf')
    .description('write a customer’s bill for a period as a PDF (电费通知单)')
    .requiredOption('--customer <no>', 'customer number (户号)')
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .requiredOption('--out <file>', 'PDF file to write')
    .action(async (options) => {
      await withContext(async (context) => {
        const document = await billDocument(context.database.db, system(), options.customer, options.period);
        const { renderBillPdf, findPdfFont } = await pdfRendering();
        await writeFile(options.out, await renderBillPdf(document, findPdfFont(context.config.pdfFontPath)));
        io.out(`${options.out}\n`);
      });
    });
  bill
    .command('area-list')
    .description('write a transformer area’s bill list for the rural electrician as a PDF (台区电费清单)')
    .requiredOption('--area <code>', 'transformer area code')
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .requiredOption('--out <file>', 'PDF file to write')
    .action(async (options) => {
      await withContext(async (context) => {
        const list = await areaBillList(context.database.db, system(), options.area, options.period);
        const { renderAreaBillListPdf, findPdfFont } = await pdfRendering();
        await writeFile(
          options.out,
          await renderAreaBillListPdf(list, findPdfFont(context.config.pdfFontPath)),
        );
        io.out(`${options.out}\n`);
      });
    });
}
