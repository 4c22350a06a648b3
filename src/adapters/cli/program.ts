import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { sql } from 'kysely';
import { importReads } from '../../app/import-reads.js';
import { postPayment } from '../../app/post-payment.js';
import { reversePayment } from '../../app/reverse-payment.js';
import { principalForLogin } from '../../app/log-in.js';
import { approveRebill, requestRebill } from '../../jobs/billing/rebill-bill.js';
import { importTariffs } from '../../app/import-tariffs.js';
import { listTariffs } from '../../app/queries/list-tariffs.js';
import { AppError } from '../../app/errors.js';
import { CLI_PRINCIPAL } from '../../app/principal.js';
import { listAuditLog } from '../../app/queries/list-audit-log.js';
import { listCustomers } from '../../app/queries/list-customers.js';
import { areaBillList, billDocument } from '../../app/queries/bill-document.js';
import { receiptDocument } from '../../app/queries/receipt-document.js';
import { readQuality } from '../../app/queries/read-quality.js';
import { verifyLedger } from '../../app/queries/verify-ledger.js';
import { type Config, ConfigError, loadConfig } from '../../config/config.js';
import {
  LateFeeInputError,
  computeLateFee,
  lateFeeOutput,
  parseLateFeeInput,
} from '../../domain/late-fee.js';
import { type Period, addMonths, parseLocalDate, parsePeriod, periodOf } from '../../domain/local-date.js';
import { fen, formatYuan, parseYuan } from '../../domain/money.js';
import { releaseBills } from '../../jobs/billing/release-bills.js';
import { runBilling } from '../../jobs/billing/run-billing.js';
import { BillInputError, billOutput, parseBillInput, priceBill } from '../../domain/tariff/price-bill.js';
import { billDemoHistory } from '../../jobs/demo/bill-demo-history.js';
import {
  DEMO_PLATFORM,
  type PlatformGateway,
  demoPlatformSecret,
} from '../../jobs/demo/collect-demo-payments.js';
import { payChannelDay } from '../channel-client/channel-simulator.js';
import { registerKeysCommands } from './keys-commands.js';
import { createDemoCounty, workOnDemoRun } from '../../jobs/demo/create-demo-county.js';
import { type AppContext, createAppContext } from '../../main/app-context.js';
import { hashPassword } from '../crypto/password-hash.js';
import { describeSchema, renderSchema } from '../../db/describe-schema.js';
import { migrateToLatest, migrationStatus } from '../../db/migrate.js';
import { citusPlan } from '../../db/table-classes.js';
import { fileCodec } from '../files/file-codec.js';
import { registerChannelCommands } from './channel-commands.js';
import { registerLedgerCommands } from './ledger-commands.js';
import { InputError, ItemsFailed, UsageError } from './cli-errors.js';
import { type Lang, message } from './messages.js';
import { formatTable, progressBar } from './output.js';

// The HTTP server and PDF rendering are the heaviest modules (0.3 s and 0.15 s to load here):
// only the commands that use them import them, so every other command, a billing run's
// workers above all, starts without them.
async function pdfRendering() {
  const [pdf, font] = await Promise.all([import('../files/bill-pdf.js'), import('../files/pdf-font.js')]);
  return { ...pdf, findPdfFont: font.findPdfFont };
}

export const DEMO_LOGIN = { login: 'admin', password: 'gridcollect' } as const;

/** Exit codes of the scripting contract: 0 ok, 1 some items failed, 2 usage or configuration error. */
export const EXIT = { ok: 0, itemsFailed: 1, usage: 2 } as const;

async function readJsonInput(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `input: cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`input: not valid JSON (${(error as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Where configuration comes from; the environment by default (tests pass their own). */
  readonly config?: () => Config;
}

export interface GlobalOptions {
  json?: boolean;
  lang?: Lang;
}

export function positiveInt(name: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return parsed;
  };
}

function anyInt(value: string) {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError('must be an integer');
  return parsed;
}

function periodArg(value: string) {
  const parsed = parsePeriod(value);
  if (!parsed) throw new InvalidArgumentError('must be YYYY-MM');
  return parsed;
}

/** Builds the `gridcollect` command tree. Output goes through `out`/`err` so tests can capture it. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('gridcollect');
  const config = io.config ?? loadConfig;
  const lang = (options: GlobalOptions): Lang => options.lang ?? config().lang;
  const emitJson = (value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);
  const withContext = async <T>(
    fn: (context: AppContext) => Promise<T>,
    options: { migrate?: boolean; fieldKey?: boolean } = {},
  ): Promise<T> => {
    const context = await createAppContext(config(), options);
    try {
      return await fn(context);
    } finally {
      await context.close();
    }
  };

  program
    .description('GridCollect 电费回收系统: electricity billing and fee recovery')
    .addOption(new Option('--lang <lang>', 'message language').choices(['zh-CN', 'en']))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  const globals = (command: Command): GlobalOptions => command.optsWithGlobals() as GlobalOptions;

  program
    .command('demo')
    .description('create the demo county in an empty database (registry and months of reads)')
    .requiredOption('--customers <n>', 'number of customers', positiveInt('--customers'))
    .requiredOption('--months <m>', 'months of reads', positiveInt('--months'))
    .requiredOption('--seed <s>', 'random seed', anyInt)
    .option('--until <period>', 'last period with reads (default: last month)', periodArg)
    .option(
      '--reads-only',
      'stop after the reads; otherwise every month is also billed, its held reads resolved by the station checker, and released',
    )
    .option('--concurrency <n>', 'partitions written at once (PostgreSQL)', positiveInt('--concurrency'))
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(
        async (context) => {
          const summary = await runDemo(context, {
            customers: options.customers,
            months: options.months,
            seed: options.seed,
            until: options.until,
            concurrency: options.concurrency,
            progress: !global.json,
            lang: lang(global),
          });
          const billing = options.readsOnly
            ? null
            : await runDemoBilling(context, !global.json, lang(global), io.err);
          if (global.json) emitJson({ ...summary, billing });
          else {
            io.out(`${summaryLine(lang(global), summary)}\n`);
            if (billing) {
              io.out(
                `${message(lang(global), 'demoBilled', { periods: billing.periods, bills: billing.bills, resolved: billing.resolved, payments: billing.payments, withheld: billing.withheld })}\n`,
              );
            }
          }
        },
        { migrate: true },
      );
    });

  const calc = program.command('calc').description('calculation commands (JSON in, JSON out; no database)');
  calc
    .command('bill')
    .description('price one bill from a tariff and usage (FILE, or - for standard input)')
    .argument('<file>', 'JSON input file, or - for standard input')
    .action(async (file: string) => {
      const input = await readJsonInput(file);
      try {
        emitJson(billOutput(priceBill(parseBillInput(input))));
      } catch (error) {
        if (error instanceof BillInputError) throw new InputError(error.message);
        throw error;
      }
    });
  calc
    .command('late-fee')
    .description('late fee (违约金) for overdue items as of a date (FILE, or - for standard input)')
    .argument('<file>', 'JSON input file, or - for standard input')
    .action(async (file: string) => {
      const input = await readJsonInput(file);
      try {
        emitJson(lateFeeOutput(computeLateFee(parseLateFeeInput(input))));
      } catch (error) {
        if (error instanceof LateFeeInputError) throw new InputError(error.message);
        throw error;
      }
    });

  const bill = program.command('bill').description('billing run (电费核算) and release (电费发行)');
  bill
    .command('run')
    .description(
      'bill every customer due in the period (drafts); customers with held reads go to the exception queue',
    )
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .option('--station <id>', 'only this supply station (org unit id)', positiveInt('--station'))
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
          ...(options.station ? { stationId: options.station } : {}),
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
    .option('--station <id>', 'only this supply station (org unit id)', positiveInt('--station'))
    .option('--on <date>', 'release date (default: today)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const releasedOn = options.on ? parseLocalDate(options.on) : context.clock.today();
        if (!releasedOn) throw new UsageError('--on must be a date YYYY-MM-DD');
        const summary = await releaseBills(context.database.db, {
          period: options.period,
          ...(options.station ? { stationId: options.station } : {}),
          releasedOn,
          actor: CLI_PRINCIPAL,
        });
        const result = { ...summary, amount: formatYuan(fen(summary.amountFen)) };
        if (global.json) emitJson(result);
        else
          io.out(
            `${message(lang(global), 'released', { period: summary.period, released: summary.released, amount: result.amount })}\n`,
          );
      });
    });

  const reads = program.command('reads').description('meter reads');
  reads
    .command('import')
    .description(
      'import a file of meter reads (manual rounds, handheld terminals, or the AMI feed); the whole file or nothing',
    )
    .argument('<file>', 'CSV file (UTF-8)')
    .addOption(new Option('--format <format>', 'file layout').choices(['manual', 'ami']).default('manual'))
    .option('--json', 'print one JSON document')
    .action(async (file: string, options, command: Command) => {
      const global = globals(command);
      let records: string[][];
      try {
        records = parseCsv(await readFile(file, 'utf8'), {
          bom: true,
          relax_column_count: true,
        }) as string[][];
      } catch (error) {
        throw new InputError(`${file}: not a readable CSV file (${(error as Error).message})`);
      }
      await withContext(async (context) => {
        try {
          const result = await importReads(context.database.db, CLI_PRINCIPAL, {
            format: options.format,
            records,
            fileName: path.basename(file),
          });
          if (global.json) emitJson({ file, ...result });
          else
            io.out(
              `${message(lang(global), 'readsImported', { file, rows: result.rows, imported: result.imported, already: result.alreadyImported })}\n`,
            );
        } catch (error) {
          if (error instanceof AppError && error.code === 'validation_failed')
            throw new InputError(error.message);
          throw error;
        }
      });
    });

  const tariff = program.command('tariff').description('tariffs (电价) as versioned data');
  tariff
    .command('import')
    .description('import tariffs and versions from a JSON file; overlapping versions are refused')
    .argument('<file>', 'JSON file: {"tariffs": [{code, name, category, structure, versions: [...]}]}')
    .option('--json', 'print one JSON document')
    .action(async (file: string, _options, command: Command) => {
      const global = globals(command);
      const document = await readJsonInput(file);
      await withContext(async (context) => {
        const result = await importTariffs(context.database.db, CLI_PRINCIPAL, document);
        if (global.json) emitJson(result);
        else
          io.out(
            `${message(lang(global), 'tariffsImported', { tariffs: result.tariffs, added: result.versionsAdded, unchanged: result.versionsUnchanged })}\n`,
          );
      });
    });
  tariff
    .command('list')
    .description('tariffs with their versions')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const tariffs = await listTariffs(context.database.db, CLI_PRINCIPAL);
        if (global.json) emitJson(tariffs);
        else {
          const rows = tariffs.flatMap((t) =>
            t.versions.map((v) => ({
              code: t.code,
              name: t.name,
              from: v.effectiveFrom,
              to: v.effectiveTo ?? '',
              source: v.source,
            })),
          );
          io.out(formatTable(rows, ['code', 'name', 'from', 'to', 'source']));
        }
      });
    });

  bill
    .command('rebill')
    .description(
      'rebill (退补) a released bill: reverse it and issue the next revision, with reason and a second person’s approval',
    )
    .requiredOption('--customer <no>', 'customer number (户号)')
    .requiredOption('--period <period>', 'billing period YYYY-MM', periodArg)
    .requiredOption('--reason <text>', 'why the bill is wrong')
    .requiredOption('--requested-by <login>', 'staff member asking for the rebill')
    .requiredOption('--approved-by <login>', 'a second staff member who approves it')
    .option('--on <date>', 'date of the corrected bill (default: today)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const on = options.on ? parseLocalDate(options.on) : context.clock.today();
        if (!on) throw new UsageError('--on must be a date YYYY-MM-DD');
        const requester = await principalForLogin(context.database.db, options.requestedBy);
        const approver = await principalForLogin(context.database.db, options.approvedBy);
        const request = await requestRebill(context.database.db, requester, {
          customerNo: options.customer,
          period: options.period,
          reason: options.reason,
        });
        const result = await approveRebill(context.database.db, approver, {
          customerNo: options.customer,
          rebillRequestId: request.rebillRequestId,
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

  reads
    .command('quality')
    .description('actual-read rate (实抄率) and read error rate per station or meter reader')
    .requiredOption('--period <period>', 'period YYYY-MM', periodArg)
    .addOption(new Option('--by <group>', 'group by').choices(['station', 'reader']).default('station'))
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const rows = await readQuality(context.database.db, CLI_PRINCIPAL, options.period, options.by);
        if (global.json) emitJson(rows);
        else {
          const percent = (value: number) => `${(value * 100).toFixed(2)}%`;
          const shaped = rows.map((row) => ({
            ...row,
            actualReadRate: percent(row.actualReadRate),
            errorRate: percent(row.errorRate),
          }));
          io.out(
            formatTable(shaped, [
              'name',
              'stationName',
              'due',
              'actual',
              'estimated',
              'missing',
              'errors',
              'actualReadRate',
              'errorRate',
            ]),
          );
        }
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
        const document = await billDocument(
          context.database.db,
          CLI_PRINCIPAL,
          options.customer,
          options.period,
        );
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
        const list = await areaBillList(context.database.db, CLI_PRINCIPAL, options.area, options.period);
        const { renderAreaBillListPdf, findPdfFont } = await pdfRendering();
        await writeFile(
          options.out,
          await renderAreaBillListPdf(list, findPdfFont(context.config.pdfFontPath)),
        );
        io.out(`${options.out}\n`);
      });
    });

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
          CLI_PRINCIPAL,
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
    .requiredOption('--by <login>', 'the cashier or collector who took the money')
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
        const staff = await principalForLogin(context.database.db, options.by);
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
    .requiredOption('--by <login>', 'the staff member reversing it')
    .addOption(
      new Option('--source <source>', 'where the money was taken')
        .choices(['counter', 'collector'])
        .default('counter'),
    )
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await principalForLogin(context.database.db, options.by);
        const result = await reversePayment(context.database.db, staff, {
          idempotencyKey: `${options.source}:${options.key}`,
          reason: options.reason,
          businessDate: context.clock.today(),
        });
        if (global.json) emitJson(result);
        else io.out(`${message(lang(global), 'paymentReversed', { receipt: result.receiptNo })}\n`);
      });
    });

  const ledger = program.command('ledger').description('the journal and its two-person actions');
  ledger
    .command('verify')
    .description(
      'check that every entry balances and agrees with bills, payments and allocations (exit 1 on problems)',
    )
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const result = await verifyLedger(context.database.db);
        if (global.json) emitJson(result);
        else {
          io.out(
            `${message(lang(global), 'ledgerVerified', { entries: result.entries, postings: result.postings, problems: result.problems.length })}\n`,
          );
          if (result.problems.length)
            io.out(formatTable(result.problems, ['check', 'customerId', 'reference', 'detail']));
        }
        if (result.problems.length > 0) throw new ItemsFailed(`${result.problems.length} ledger problem(s)`);
      });
    });

  // Schema commands work without the encryption key (it is checked by everything that serves data).
  const NO_FIELD_KEY = { fieldKey: false } as const;
  const db = program.command('db').description('database schema');
  db.command('migrate')
    .description('apply pending migrations')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const result = await migrateToLatest(context.database.db);
        if (global.json) emitJson(result);
        else if (result.applied.length)
          io.out(`${message(lang(global), 'migrated', { versions: result.applied.join(', ') })}\n`);
        else if (!result.error) io.out(`${message(lang(global), 'upToDate')}\n`);
        if (result.error)
          throw new AppError(
            'migration_failed',
            `migration ${result.error.version}: ${result.error.message}`,
          );
      }, NO_FIELD_KEY);
    });
  db.command('status')
    .description('list migrations and whether each is applied')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const statuses = await migrationStatus(context.database.db);
        if (global.json)
          emitJson({
            database: context.database.kind,
            location: context.database.location,
            migrations: statuses,
          });
        else
          io.out(
            formatTable(
              statuses.map((s) => ({ ...s, appliedAt: s.appliedAt?.toISOString() ?? '' })),
              ['version', 'name', 'state', 'appliedAt'],
            ),
          );
      }, NO_FIELD_KEY);
    });
  db.command('schema')
    .description('print the schema as committed in src/db/schema.snapshot.txt')
    .action(async () => {
      await withContext(async (context) => io.out(renderSchema(await describeSchema(context.database.db))), {
        migrate: true,
        ...NO_FIELD_KEY,
      });
    });
  db.command('citus-plan')
    .description('print the Citus statements that distribute the schema by customer')
    .action(async () => {
      await withContext(
        async (context) => {
          const schema = await describeSchema(context.database.db);
          io.out(`${citusPlan(schema.tables).join('\n')}\n`);
        },
        { migrate: true, ...NO_FIELD_KEY },
      );
    });

  const customer = program.command('customer').description('customers');
  customer
    .command('list')
    .description('list customers with the amount due')
    .option('--owing', 'only customers with totalDue > 0')
    .option('--limit <n>', 'at most this many (default: all)', positiveInt('--limit'))
    .option('--station <id>', 'only this supply station (org unit id)', positiveInt('--station'))
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        // Pages through customers with a keyset cursor, so a whole county streams out without
        // being held in memory; --json still prints one JSON array.
        const limit: number = options.limit ?? Number.POSITIVE_INFINITY;
        const columns = [
          'customerNo',
          'name',
          'category',
          'totalDue',
          'station',
          'transformerArea',
          'status',
        ];
        let after: number | undefined;
        let printed = 0;
        if (global.json) io.out('[');
        while (printed < limit) {
          const page = await listCustomers(context.database.db, CLI_PRINCIPAL, {
            limit: Math.min(5000, limit - printed),
            ...(after !== undefined ? { afterCustomerId: after } : {}),
            ...(options.owing ? { owing: true } : {}),
            ...(options.station ? { stationId: options.station } : {}),
          });
          if (page.length === 0) break;
          const shaped = page.map((row) => ({
            customerNo: row.customerNo,
            name: row.name,
            category: row.category,
            totalDue: row.totalDue,
            station: row.stationName,
            transformerArea: row.transformerAreaName,
            status: row.status,
          }));
          if (global.json)
            io.out(`${printed ? ',' : ''}\n${shaped.map((row) => JSON.stringify(row)).join(',\n')}`);
          else io.out(formatTable(shaped, columns));
          printed += page.length;
          after = page.at(-1)!.customerId;
        }
        if (global.json) io.out(printed ? '\n]\n' : ']\n');
        else if (printed === 0) io.out(`${message(lang(global), 'noRows')}\n`);
      });
    });

  registerChannelCommands(program, { io, lang, emitJson, withContext, globals });
  registerLedgerCommands(program, ledger, { io, lang, emitJson, withContext, globals });
  registerKeysCommands(program, { io, lang, emitJson, withContext, globals });

  program
    .command('audit')
    .description('audit trail')
    .command('list')
    .description('latest audit entries')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 50)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const rows = await listAuditLog(context.database.db, CLI_PRINCIPAL, options.limit);
        if (global.json) emitJson(rows);
        else
          io.out(
            formatTable(
              rows.map((row) => ({ ...row, at: row.at.toISOString(), details: JSON.stringify(row.details) })),
              ['auditId', 'at', 'actorKind', 'actorId', 'action', 'objectType', 'objectId', 'details'],
            ),
          );
      });
    });

  program
    .command('worker')
    .description(
      'claim and run pending partitions of unfinished batch runs (demo, billing); several may run at once',
    )
    .option('--concurrency <n>', 'partitions at once', positiveInt('--concurrency'), 2)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const runs = await context.database.db
          .selectFrom('job_run')
          .select(['run_key', 'kind'])
          .where('status', '=', 'running')
          .execute();
        let count = 0;
        for (const run of runs) {
          const worker = `${os.hostname()}:${process.pid}`;
          if (run.kind === 'demo') {
            count += await workOnDemoRun(context.database.db, run.run_key, {
              encrypt: context.cipher.encrypt,
              concurrency: options.concurrency,
              worker,
            });
          } else if (run.kind === 'billing') {
            // Running the same billing run again joins it: pending partitions are claimed, done ones skipped.
            const params = (
              await context.database.db
                .selectFrom('job_run')
                .select('params')
                .where('run_key', '=', run.run_key)
                .executeTakeFirstOrThrow()
            ).params as { period: Period; stationId: number | null };
            // The run's own partition layout is taken from the run itself.
            const summary = await runBilling(context.database.db, {
              period: params.period,
              ...(params.stationId !== null ? { stationId: params.stationId } : {}),
              concurrency: options.concurrency,
              worker,
            });
            count += summary.partitionsDoneHere;
          }
        }
        if (global.json) emitJson({ partitions: count, runs: runs.map((run) => run.run_key) });
        else io.out(`${message(lang(global), 'workerDone', { count })}\n`);
      });
    });

  program
    .command('serve')
    .description('start the HTTP server and web UI')
    .option('--port <port>', 'port (default 3000)', anyInt)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .action(async (options, command: Command) => {
      const context = await createAppContext(config());
      await serve(context, { port: options.port, host: options.host, lang: lang(globals(command)), io });
    });

  program
    .command('start')
    .description('migrate, create the demo county when the database is empty, then serve (npm start)')
    .option('--port <port>', 'port (default 3000)', anyInt)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const context = await createAppContext(config(), { migrate: true });
      try {
        const existing = await sql<{ n: number }>`select count(*)::int as n from org_unit`.execute(
          context.database.db,
        );
        const unfinished = await context.database.db
          .selectFrom('job_run')
          .select('run_key')
          .where('kind', '=', 'demo')
          .where('status', '=', 'running')
          .executeTakeFirst();
        if (unfinished) {
          // A demo build was interrupted (possibly with other parameters): finish that one.
          io.err(`${message(lang(global), 'demoResumed')}\n`);
          await workOnDemoRun(context.database.db, unfinished.run_key, {
            encrypt: context.cipher.encrypt,
            concurrency: context.database.kind === 'postgres' ? 2 : 1,
            worker: `${os.hostname()}:${process.pid}`,
          });
        } else if (Number(existing.rows[0]?.n ?? 0) === 0) {
          const demo = config().demo;
          io.err(
            `${message(lang(global), 'startEmpty', { customers: demo.customers, months: demo.months })}\n`,
          );
          const summary = await runDemo(context, {
            ...demo,
            until: undefined,
            concurrency: undefined,
            progress: true,
            lang: lang(global),
          });
          io.err(`${summaryLine(lang(global), summary)}\n`);
        }
        const billing = await runDemoBilling(context, true, lang(global), io.err);
        if (!billing.alreadyDone && billing.periods > 0) {
          io.err(
            `${message(lang(global), 'demoBilled', { periods: billing.periods, bills: billing.bills, resolved: billing.resolved, payments: billing.payments, withheld: billing.withheld })}\n`,
          );
        }
      } catch (error) {
        await context.close();
        throw error;
      }
      await serve(context, {
        port: options.port,
        host: options.host,
        lang: lang(global),
        io,
        showLogin: true,
      });
    });

  return program;
}

async function runDemo(
  context: AppContext,
  options: {
    customers: number;
    months: number;
    seed: number;
    until: string | undefined;
    concurrency: number | undefined;
    progress: boolean;
    lang: Lang;
  },
) {
  const untilPeriod = options.until
    ? parsePeriod(options.until)!
    : addMonths(periodOf(context.clock.today()), -1);
  const bar = progressBar(message(options.lang, 'demoBuilding'), options.progress);
  try {
    return await createDemoCounty(context.database.db, {
      seed: options.seed,
      customers: options.customers,
      months: options.months,
      untilPeriod,
      passwordHash: await hashPassword(DEMO_LOGIN.password),
      encrypt: context.cipher.encrypt,
      concurrency: options.concurrency ?? (context.database.kind === 'postgres' ? 2 : 1),
      worker: `${os.hostname()}:${process.pid}`,
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.stop();
  }
}

/**
 * The demo platform as a real channel client: an in-process server on a loopback port takes its
 * signed requests (/channel/v1), and the platform posts each business day's payments and uploads
 * the day's reconciliation file, as a partner written from contracts/channel-api.md does.
 */
async function withDemoPlatform<T>(
  context: AppContext,
  seed: number,
  work: (gateway: PlatformGateway) => Promise<T>,
): Promise<T> {
  const { buildServer } = await import('../http/server.js');
  const app = await buildServer({
    db: context.database.db,
    databaseKind: context.database.kind,
    clock: context.clock,
    tokens: context.tokens,
    passwords: context.passwords,
    sessionHours: context.config.sessionHours,
    logLevel: 'silent',
    version: context.version,
    pdfFontPath: context.config.pdfFontPath,
    timeZone: context.config.timeZone,
    cipher: context.cipher,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // The platform's secret is random per installation: read back once the platform is registered.
  let secret: string | null = null;
  try {
    return await work(async (businessDate, payments) => {
      secret ??= await demoPlatformSecret(context.database.db, context.cipher.decrypt);
      if (secret === null) throw new Error(`the demo channel ${DEMO_PLATFORM.code} is not registered`);
      const target = { baseUrl: `http://127.0.0.1:${port}`, channelId: DEMO_PLATFORM.code, secret };
      await payChannelDay(target, businessDate, payments, {
        // PGlite serves one statement at a time; PostgreSQL shares commits among requests.
        concurrency: context.database.kind === 'postgres' ? 16 : 4,
        duplicates: 0.05,
        seed: seed * 1000 + Number(businessDate.replaceAll('-', '')),
      });
    });
  } finally {
    await app.close();
  }
}

async function runDemoBilling(
  context: AppContext,
  progress: boolean,
  lang: Lang,
  say: (text: string) => void,
) {
  const demo = await context.database.db.selectFrom('demo_county').select('seed').executeTakeFirst();
  return withDemoPlatform(context, demo?.seed ?? 1, (gateway) =>
    billDemo(context, progress, lang, gateway, say),
  );
}

async function billDemo(
  context: AppContext,
  progress: boolean,
  lang: Lang,
  gateway: PlatformGateway,
  say: (text: string) => void,
) {
  const bar = progressBar(message(lang, 'demoBilling'), progress);
  try {
    const demo = await context.database.db.selectFrom('demo_county').select('seed').executeTakeFirst();
    return await billDemoHistory(context.database.db, {
      concurrency: context.database.kind === 'postgres' ? 2 : 1,
      worker: `${os.hostname()}:${process.pid}`,
      collect: {
        context: {
          encrypt: context.cipher.encrypt,
          decrypt: context.cipher.decrypt,
          codec: fileCodec,
          today: context.clock.today(),
          seed: demo?.seed ?? 1,
          platformGateway: gateway,
          onPlatformSecret: (code, secret) =>
            say(`${message(lang, 'demoPlatformSecret', { code, secret })}\n`),
        },
        clock: context.clock,
      },
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.stop();
  }
}

function summaryLine(lang: Lang, summary: Awaited<ReturnType<typeof runDemo>>): string {
  const values = {
    stations: summary.stations,
    areas: summary.transformerAreas,
    staff: summary.staff,
    customers: summary.customers,
    reads: summary.reads,
    first: summary.firstPeriod,
    last: summary.lastPeriod,
  };
  return message(lang, summary.alreadyCreated ? 'demoExists' : 'demoDone', values);
}

async function serve(
  context: AppContext,
  options: {
    port?: number;
    host?: string;
    lang: Lang;
    io: { out: (text: string) => void; err: (text: string) => void };
    showLogin?: boolean;
  },
): Promise<void> {
  const { buildServer } = await import('../http/server.js');
  const app = await buildServer({
    db: context.database.db,
    databaseKind: context.database.kind,
    clock: context.clock,
    tokens: context.tokens,
    passwords: context.passwords,
    sessionHours: context.config.sessionHours,
    logLevel: context.config.logLevel,
    version: context.version,
    pdfFontPath: context.config.pdfFontPath,
    timeZone: context.config.timeZone,
    cipher: context.cipher,
  });
  const host = options.host ?? context.config.host;
  await app.listen({ port: options.port ?? context.config.port, host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${host === '0.0.0.0' ? 'localhost' : host}:${port}/`;
  options.io.out(`${message(options.lang, 'serving', { url })}\n`);
  if (options.showLogin) options.io.out(`${message(options.lang, 'demoLogin', DEMO_LOGIN)}\n`);
  await new Promise<void>((resolve) => {
    const stop = async () => {
      options.io.err(`${message(options.lang, 'stopping')}\n`);
      await app.close();
      await context.close();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

/** Runs the CLI and returns the exit code; errors go to standard error. */
export async function runCli(
  argv: readonly string[],
  io: CliIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) },
): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof ItemsFailed) {
      io.err(`gridcollect: ${error.message}\n`);
      return EXIT.itemsFailed;
    }
    if (error instanceof InputError) {
      io.err(`gridcollect: ${error.message.replaceAll('\n', ' ')}\n`);
      return EXIT.itemsFailed;
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      io.err(`gridcollect: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof AppError) {
      io.err(`gridcollect: ${error.code}: ${error.message}\n`);
      return error.code === 'validation_failed' ? EXIT.usage : EXIT.itemsFailed;
    }
    io.err(`gridcollect: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.itemsFailed;
  }
}
