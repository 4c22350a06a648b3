import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { parse as parseCsv } from 'csv-parse/sync';
import { AppError } from '../../app/errors.js';
import { importReads } from '../../app/import-reads.js';
import { readQuality } from '../../app/queries/read-quality.js';
import { InputError } from './cli-errors.js';
import { type CliIo, commandKit, periodArg } from './command-kit.js';
import { message } from './messages.js';
import { formatTable } from './output.js';

/** `reads …`: importing meter reads and the read quality report. */
export function registerReadsCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang, actor, system } = commandKit(io);
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
          const result = await importReads(context.database.db, await actor(context, global), {
            format: options.format,
            records,
            fileName: path.basename(file),
          });
          if (global.json) emitJson({ file, ...result });
          else {
            io.out(
              `${message(lang(global), 'readsImported', { file, rows: result.rows, imported: result.imported, already: result.alreadyImported })}\n`,
            );
            const shown = (values: Readonly<Record<string, string>>) =>
              Object.entries(values)
                .map(([register, value]) => `${register} ${value}`)
                .join(', ');
            for (const held of result.corrections)
              io.out(
                `${message(lang(global), 'readsCorrectionHeld', {
                  file,
                  line: held.line,
                  meter: held.meterNo,
                  customer: held.customerNo,
                  period: held.period,
                  old: shown(held.oldValues),
                  new: shown(held.newValues),
                  code: held.code,
                  billed: held.billed ? message(lang(global), 'readsCorrectionBilled', {}) : '',
                })}\n`,
              );
          }
        } catch (error) {
          if (error instanceof AppError && error.code === 'validation_failed')
            throw new InputError(error.message);
          throw error;
        }
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
        const rows = await readQuality(context.database.db, system(), options.period, options.by);
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
}
