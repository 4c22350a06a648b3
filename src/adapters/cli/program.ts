import { Command, CommanderError, Option } from 'commander';
import { AppError } from '../../app/errors.js';
import { ConfigError, loadConfig } from '../../config/config.js';
import { DataDirLockedError } from '../../db/data-dir-lock.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerBillCommands } from './bill-commands.js';
import { registerCalcCommands } from './calc-commands.js';
import { registerChannelCommands } from './channel-commands.js';
import { InputError, ItemsFailed, UsageError } from './cli-errors.js';
import { type CliIo, EXIT } from './command-kit.js';
import { registerCustomerCommands } from './customer-commands.js';
import { registerDbCommands } from './db-commands.js';
import { registerDemoCommands } from './demo-commands.js';
import { cliLang, forwardIfServerHolds, lockedMessage } from './forward.js';
import { registerLedgerCommands } from './ledger-commands.js';
import { registerKeysCommands } from './keys-commands.js';
import { registerLedgerVerifyCommands } from './ledger-verify-commands.js';
import { appErrorText, cliErrorText, localizeProgram, runInLang } from './localize.js';
import type { Lang } from './messages.js';
import { registerPaymentCommands } from './payment-commands.js';
import { registerReadsCommands } from './reads-commands.js';
import { registerServiceCommands } from './service-commands.js';
import { registerStaffCommands } from './staff-commands.js';
import { registerTariffCommands } from './tariff-commands.js';

// The command groups live in `<group>-commands.ts`, each exporting `register<Group>Commands(program, io)`;
// what they share (io, context, option parsers, input readers, exit codes) is command-kit.ts.
export type { CliIo, GlobalOptions } from './command-kit.js';
export { EXIT } from './command-kit.js';

/**
 * Builds the `gridcollect` command tree. Output goes through `out`/`err` so tests can capture it.
 * Groups are listed in `--help` in the order they are registered here; in zh-CN the help and
 * commander's errors are translated once the tree is complete (localize.ts).
 */
export function buildProgram(io: CliIo, lang: Lang = 'en'): Command {
  const program = new Command('gridcollect');
  program
    .description('GridCollect 电费回收系统: electricity billing and fee recovery')
    .addOption(new Option('--lang <lang>', 'message language').choices(['zh-CN', 'en']))
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  registerDemoCommands(program, io);
  registerCalcCommands(program, io);
  registerBillCommands(program, io);
  registerReadsCommands(program, io);
  registerTariffCommands(program, io);
  registerPaymentCommands(program, io);
  const ledger = registerLedgerVerifyCommands(program, io);
  registerDbCommands(program, io);
  registerCustomerCommands(program, io);
  registerChannelCommands(program, io);
  registerLedgerCommands(program, ledger, io);
  registerStaffCommands(program, io);
  registerKeysCommands(program, io);
  registerAuditCommands(program, io);
  registerServiceCommands(program, io);
  localizeProgram(program, lang);
  return program;
}

/** Runs the CLI and returns the exit code; errors go to standard error. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // --lang is read from argv before parsing: the help and commander's own errors need it.
  const lang = cliLang(argv, io.config ?? loadConfig);
  const program = buildProgram(io, lang);
  try {
    const forwarded = await forwardIfServerHolds(argv, io);
    if (forwarded !== undefined) return forwarded;
    await runInLang(lang, () => program.parseAsync(argv as string[], { from: 'user' }));
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof DataDirLockedError) {
      io.err(lockedMessage(error, argv, lang));
      return EXIT.usage;
    }
    if (error instanceof ItemsFailed) {
      io.err(`gridcollect: ${cliErrorText('itemsFailed', error.message, lang)}\n`);
      return EXIT.itemsFailed;
    }
    if (error instanceof InputError) {
      io.err(`gridcollect: ${cliErrorText('input', error.message.replaceAll('\n', ' '), lang)}\n`);
      return EXIT.itemsFailed;
    }
    if (error instanceof ConfigError || error instanceof UsageError) {
      const kind = error instanceof ConfigError ? 'config' : 'usage';
      io.err(`gridcollect: ${cliErrorText(kind, error.message, lang)}\n`);
      return EXIT.usage;
    }
    if (error instanceof AppError) {
      io.err(`gridcollect: ${appErrorText(error, lang)}\n`);
      return error.code === 'validation_failed' ? EXIT.usage : EXIT.itemsFailed;
    }
    io.err(`gridcollect: ${cliErrorText('internal', (error as Error).stack ?? String(error), lang)}\n`);
    return EXIT.itemsFailed;
  }
}
