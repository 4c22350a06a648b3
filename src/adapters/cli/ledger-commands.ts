import { type Command, InvalidArgumentError, Option } from 'commander';
import { applyDeposit, receiveDeposit } from '../../app/customer-deposits.js';
import { customerInScope } from '../../app/customer-in-scope.js';
import {
  type LedgerRequestView,
  decideLedgerRequest,
  listLedgerRequests,
  payOutRefund,
  requestLedgerAction,
} from '../../app/ledger-requests.js';
import {
  type HoldScope,
  approvePolicyHold,
  listPolicyHolds,
  requestPolicyHold,
} from '../../app/policy-holds.js';
import { parseLocalDate, parsePeriod } from '../../domain/local-date.js';
import { fen, formatYuan, parseYuan } from '../../domain/money.js';
import { computeMonthEndLateFees } from '../../jobs/late-fees/month-end-late-fees.js';
import { UsageError } from './cli-errors.js';
import { type CliIo, commandKit } from './command-kit.js';
import { formatTable, progressBar } from './output.js';

function dateArg(value: string) {
  const parsed = parseLocalDate(value);
  if (!parsed) throw new InvalidArgumentError('must be YYYY-MM-DD');
  return parsed;
}

function yuanArg(value: string) {
  const parsed = parseYuan(value);
  if (parsed === null || parsed <= 0)
    throw new InvalidArgumentError('must be a positive yuan amount, e.g. 12.50');
  return parsed;
}

function idArg(value: string) {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw new InvalidArgumentError('must be a request number');
  return parsed;
}

function scopeArg(value: string): HoldScope {
  if (value === 'all') return { kind: 'all' };
  const [kind, rest] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
  if (value.includes(':') && rest) {
    if (kind === 'category') return { kind: 'category', category: rest };
    if (kind === 'station') return { kind: 'station', stationCode: rest };
    if (kind === 'customer') return { kind: 'customer', customerNo: rest };
  }
  throw new InvalidArgumentError('all | category:<category> | station:<code> | customer:<customer no>');
}

function shapeRequest(view: LedgerRequestView) {
  return {
    ...view,
    amount: formatYuan(view.amountFen),
    settled: view.settledFen === null ? null : formatYuan(view.settledFen),
  };
}

const REQUEST_COLUMNS = [
  'requestId',
  'customerNo',
  'kind',
  'billNo',
  'amount',
  'settled',
  'status',
  'reason',
];

/**
 * Policy holds, two-person ledger actions (waivers, write-offs, refunds), deposits and the
 * month-end late-fee job. A request, decision, payout or deposit acts as the staff member of the
 * CLI session (`gridcollect login`), so the two-person rule and scope hold on the command line as
 * in the API; a second person approves from their own session.
 */
export function registerLedgerCommands(program: Command, ledger: Command, io: CliIo): void {
  const { emitJson, withContext, globals, actor, system } = commandKit(io);

  const hold = program
    .command('hold')
    .description('policy holds (欠费不停供): no late fee / no disconnection');
  hold
    .command('request')
    .description('ask for a hold over a scope and a date range; a second person approves it')
    .requiredOption('--scope <scope>', 'all | category:<c> | station:<code> | customer:<no>', scopeArg)
    .requiredOption('--from <date>', 'first day', dateArg)
    .requiredOption('--to <date>', 'last day', dateArg)
    .option('--no-late-fee', 'no late fee accrues on these days')
    .option('--no-disconnection', 'no disconnection for arrears on these days')
    .requiredOption('--reason <text>', 'why')
    .option('--source <text>', 'the policy document')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      // commander turns --no-x into x=false; a hold states what it suspends, so read it inverted.
      const noLateFee = options.lateFee === false;
      const noDisconnection = options.disconnection === false;
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const view = await requestPolicyHold(context.database.db, staff, {
          scope: options.scope,
          startsOn: options.from,
          endsOn: options.to,
          noLateFee,
          noDisconnection,
          reason: options.reason,
          source: options.source,
        });
        if (global.json) emitJson(view);
        else
          io.out(
            `hold ${view.holdId}: ${view.scopeKind} ${view.startsOn}..${view.endsOn}, waiting for approval\n`,
          );
      });
    });
  hold
    .command('approve')
    .description('approve a hold (not by the person who asked for it)')
    .argument('<holdId>', 'the hold', idArg)
    .option('--json', 'print one JSON document')
    .action(async (holdId: number, _options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const view = await approvePolicyHold(context.database.db, staff, holdId);
        if (global.json) emitJson(view);
        else io.out(`hold ${view.holdId} approved\n`);
      });
    });
  hold
    .command('list')
    .description('policy holds, newest first')
    .option('--on <date>', 'only holds covering this day', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const rows = await listPolicyHolds(context.database.db, system(), { activeOn: options.on });
        if (global.json) emitJson(rows);
        else
          io.out(
            formatTable(
              rows.map((row) => ({ ...row, approved: row.approvedBy !== null })),
              [
                'holdId',
                'scopeKind',
                'scopeValue',
                'startsOn',
                'endsOn',
                'noLateFee',
                'noDisconnection',
                'approved',
                'reason',
              ],
            ),
          );
      });
    });

  ledger
    .command('request')
    .description('ask for a late-fee waiver, a bad-debt write-off or a refund; a second person decides')
    .addOption(
      new Option('--kind <kind>', 'what')
        .choices(['late-fee-waiver', 'write-off', 'refund'])
        .makeOptionMandatory(),
    )
    .requiredOption('--customer <no>', 'customer number')
    .option('--bill <billNo>', 'the bill (waiver, write-off)')
    .option('--amount <yuan>', 'how much (default: all that is open on the bill)', yuanArg)
    .addOption(new Option('--from <balance>', 'refund from').choices(['prepaid', 'deposit']))
    .requiredOption('--reason <text>', 'why')
    .option('--as-of <date>', 'day the open amounts are judged on (default: today)', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const view = await requestLedgerAction(context.database.db, staff, {
          kind: options.kind.replaceAll('-', '_'),
          customerNo: options.customer,
          billNo: options.bill,
          amountFen: options.amount,
          refundFrom: options.from,
          reason: options.reason,
          asOf: options.asOf ?? context.clock.today(),
        });
        if (global.json) emitJson(shapeRequest(view));
        else io.out(formatTable([shapeRequest(view)], REQUEST_COLUMNS));
      });
    });
  for (const decision of ['approve', 'reject'] as const) {
    ledger
      .command(decision)
      .description(`${decision} a waiver, write-off or refund request (not by its requester)`)
      .requiredOption('--customer <no>', 'customer number')
      .requiredOption('--request <id>', 'request number', idArg)
      .option('--as-of <date>', 'day it takes effect (default: today)', dateArg)
      .option('--note <text>', 'note')
      .option('--json', 'print one JSON document')
      .action(async (options, command: Command) => {
        const global = globals(command);
        await withContext(async (context) => {
          const staff = await actor(context, global);
          const view = await decideLedgerRequest(context.database.db, staff, {
            customerNo: options.customer,
            requestId: options.request,
            decision,
            asOf: options.asOf ?? context.clock.today(),
            note: options.note,
          });
          if (global.json) emitJson(shapeRequest(view));
          else io.out(formatTable([shapeRequest(view)], REQUEST_COLUMNS));
        });
      });
  }
  ledger
    .command('pay-out')
    .description('pay out an approved refund by bank transfer or cash')
    .requiredOption('--customer <no>', 'customer number')
    .requiredOption('--request <id>', 'request number', idArg)
    .addOption(
      new Option('--method <method>', 'how').choices(['bank_transfer', 'cash']).makeOptionMandatory(),
    )
    .option('--bank-account <account>', 'the utility account paying (bank transfer)')
    .option('--date <date>', 'day paid (default: today)', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const view = await payOutRefund(context.database.db, staff, {
          customerNo: options.customer,
          requestId: options.request,
          method: options.method,
          bankAccount: options.bankAccount,
          paidOn: options.date ?? context.clock.today(),
        });
        if (global.json) emitJson(shapeRequest(view));
        else io.out(formatTable([shapeRequest(view)], REQUEST_COLUMNS));
      });
    });
  ledger
    .command('requests')
    .description('a customer’s waiver, write-off and refund requests')
    .requiredOption('--customer <no>', 'customer number')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const customer = await customerInScope(context.database.db, system(), options.customer);
        const rows = (
          await listLedgerRequests(context.database.db, customer.customerId, customer.customerNo)
        ).map(shapeRequest);
        if (global.json) emitJson(rows);
        else io.out(formatTable(rows, REQUEST_COLUMNS));
      });
    });

  const deposit = program.command('deposit').description('customer deposits (押金)');
  deposit
    .command('receive')
    .description('take a deposit in cash or by bank transfer (the receipt number makes it idempotent)')
    .requiredOption('--customer <no>', 'customer number')
    .requiredOption('--receipt <key>', 'receipt number')
    .requiredOption('--amount <yuan>', 'amount', yuanArg)
    .addOption(new Option('--method <method>', 'how').choices(['cash', 'bank_transfer']).default('cash'))
    .option('--bank-account <account>', 'the utility account credited (bank transfer)')
    .option('--date <date>', 'day received (default: today)', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const result = await receiveDeposit(context.database.db, staff, {
          customerNo: options.customer,
          receiptKey: options.receipt,
          amountFen: options.amount,
          method: options.method,
          bankAccount: options.bankAccount,
          receivedOn: options.date ?? context.clock.today(),
        });
        const shaped = {
          ...result,
          amount: formatYuan(result.amountFen),
          depositBalance: formatYuan(result.depositBalanceFen),
        };
        if (global.json) emitJson(shaped);
        else io.out(`${shaped.receiptNo}: deposit ${shaped.amount}, held ${shaped.depositBalance}\n`);
      });
    });
  deposit
    .command('apply')
    .description('apply a deposit to what the customer owes (through the payment path)')
    .requiredOption('--customer <no>', 'customer number')
    .requiredOption('--key <key>', 'unique key of this application (rerun returns the first result)')
    .option('--amount <yuan>', 'amount (default: what is due, up to the deposit)', yuanArg)
    .option('--date <date>', 'business day (default: today)', dateArg)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const staff = await actor(context, global);
        const result = await applyDeposit(context.database.db, staff, {
          customerNo: options.customer,
          key: options.key,
          amountFen: options.amount,
          businessDate: options.date ?? context.clock.today(),
        });
        const shaped = { ...result, amount: formatYuan(result.amountFen) };
        if (global.json) emitJson(shaped);
        else io.out(`${result.receiptNo}: deposit ${shaped.amount} applied to ${result.customerNo}\n`);
      });
    });

  program
    .command('late-fee')
    .description('late fees (违约金)')
    .command('month-end')
    .description(
      'compute every customer’s unpaid late fee at a month end (reporting; resumable, several workers)',
    )
    .requiredOption('--period <period>', 'the month, YYYY-MM')
    .option('--concurrency <n>', 'parallel partitions', (value) => Number(value), 2)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const period = parsePeriod(options.period);
      if (!period) throw new UsageError('--period must be YYYY-MM');
      await withContext(async (context) => {
        const bar = progressBar('late fees', !global.json);
        const summary = await computeMonthEndLateFees(context.database.db, {
          period,
          concurrency: options.concurrency,
          worker: `cli-${process.pid}`,
          onProgress: (done, total) => bar.update(done, total),
        });
        bar.stop();
        const shaped = {
          ...summary,
          overduePrincipal: formatYuan(fen(summary.overduePrincipalFen)),
          lateFee: formatYuan(fen(summary.lateFeeFen)),
        };
        if (global.json) emitJson(shaped);
        else
          io.out(
            `${summary.period} (as of ${summary.asOf}): ${summary.inArrears} customers in arrears, overdue ${shaped.overduePrincipal} yuan, late fees ${shaped.lateFee} yuan\n`,
          );
      });
    });
}
