import type { Command } from 'commander';
import { importTariffs } from '../../app/import-tariffs.js';
import { listTariffs } from '../../app/queries/list-tariffs.js';
import { type CliIo, commandKit, readJsonInput } from './command-kit.js';
import { message } from './messages.js';
import { formatTable } from './output.js';

/** `tariff …`: tariffs as versioned data. */
export function registerTariffCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang, actor, system } = commandKit(io);
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
        const result = await importTariffs(context.database.db, await actor(context, global), document);
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
        const tariffs = await listTariffs(context.database.db, system());
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
}
