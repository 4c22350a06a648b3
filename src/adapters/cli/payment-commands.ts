import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { postPayment } from '../../app/post-payment.js';
import { receiptDocument } from '../../app/queries/receipt-document.js';
import { reversePayment } from '../../app/reverse-payment.js';
import { parseLocalDate } from '../../domain/local-date.js';
import { formatYuan, parseYuan } from '../../domain/money.js';
import { UsageError } from './cli-errors.js';
import { type CliIo, commandKit, pdfRendering } from './command-kit.js';
import { message } from './messages.js';

/** `payment …`: counter and collector payments, their reversal and receipts. */
export function registerPaymentCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang, actor, system } = commandKit(io);
  const payment = program.command('payment').description('payments (缴费)');
  payment
    .command('receipt')
    .description('write a payment’s electronic receipt as a PDF (电子收费凭证)')
    .requiredOption('--customer <no>', 'customer number (户号)')
    .requiredOption('--receipt <no>', 'receipt number')
    .requiredOption('--out <file>', 'PDF file to write')
    .action(async (options) => {
      await withContext(async (context) => {
        const document = await receiptDocument(
          context.database.db,
          system(),
          options.customer,
          options.receipt,
        );
        const { renderReceiptPdf, findPdfFont } = await pdfRendering();
        await writeFile(
          options.out,
          await renderReceiptPdf(document, findPdfFont(context.config.pdfFontPath), context.config.timeZone),
        );
        io.out(`${options.out}\n`);
      });
    });
  payment
    .command('post')
    .description(
      'post a counter or collector payment for a customer (late fees and oldest bills first, the rest prepaid)',
    )
    .requiredOption('--customer <no>', 'customer number (户号)')
    .requiredOption('--amount <yuan>', 'amount in yuan, e.g. 120.50')
    .requiredOption(
      '--key <key>',
      'receipt number or other unique key: posting it again returns the first result',
    )
    .addOption(
      new Option('--source <source>', 'where the money is')
        .choices(['counter', 'collector'])
        .default('counter'),
    )
    .option('--date <date>', 'business date (default: today)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const amountFen = parseYuan(options.amount);
      if (amountFen === null || amountFen <= 0)
        throw new UsageError('--amount must be a positive yuan amount with at most 2 decimals');
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const businessDate = options.date ? parseLocalDate(options.date) : context.clock.today();
        if (!businessDate) throw new UsageError('--date must be a date YYYY-MM-DD');
        const result = await postPayment(context.database.db, staff, {
          idempotencyKey: `${options.source}:${options.key}`,
          customerNo: options.customer,
          amountFen,
          paidAt: context.clock.now(),
          businessDate,
          source: { kind: options.source, staffId: staff.staffId! },
        });
        const shaped = {
          ...result,
          amount: formatYuan(result.amountFen),
          prepaid: formatYuan(result.prepaidFen),
          allocations: result.allocations.map((a) => ({ ...a, amount: formatYuan(a.amountFen) })),
        };
        if (global.json) emitJson(shaped);
        else
          io.out(
            `${message(lang(global), 'paymentPosted', { receipt: result.receiptNo, customer: result.customerNo, amount: shaped.amount, prepaid: shaped.prepaid })}\n`,
          );
      });
    });

  payment
    .command('reverse')
    .description('reverse (冲正) a counter or collector payment by new entries; reversing twice is refused')
    .requiredOption('--key <key>', 'the key the payment was posted with')
    .requiredOption('--reason <text>', 'why it is reversed')
    .addOption(
      new Option('--source <source>', 'where the money was taken')
        .choices(['counter', 'collector'])
        .default('counter'),
    )
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const result = await reversePayment(context.database.db, staff, {
          idempotencyKey: `${options.source}:${options.key}`,
          reason: options.reason,
          businessDate: context.clock.today(),
        });
        if (global.json) emitJson(result);
        else io.out(`${message(lang(global), 'paymentReversed', { receipt: result.receiptNo })}\n`);
      });
    });
}
