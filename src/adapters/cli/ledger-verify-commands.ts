import type { Command } from 'commander';
import { verifyLedger } from '../../app/queries/verify-ledger.js';
import { ItemsFailed } from './cli-errors.js';
import { type CliIo, commandKit } from './command-kit.js';
import { message } from './messages.js';
import { formatTable } from './output.js';

/**
 * `ledger verify`. Returns the `ledger` group, to which ledger-commands.ts adds the two-person
 * actions (the group keeps its place in the help, right after `payment`).
 */
export function registerLedgerVerifyCommands(program: Command, io: CliIo): Command {
  const { emitJson, withContext, globals, lang } = commandKit(io);
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
  return ledger;
}
