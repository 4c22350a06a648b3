import type { Command } from 'commander';
import {
  computeLateFee,
  LateFeeInputError,
  lateFeeOutput,
  parseLateFeeInput,
} from '../../domain/late-fee.js';
import { BillInputError, billOutput, parseBillInput, priceBill } from '../../domain/tariff/price-bill.js';
import { InputError } from './cli-errors.js';
import { type CliIo, commandKit, readJsonInput } from './command-kit.js';

/** `calc bill` and `calc late-fee`: JSON in, JSON out, no database (docs/calculations.md). */
export function registerCalcCommands(program: Command, io: CliIo): void {
  const { emitJson } = commandKit(io);
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
}
