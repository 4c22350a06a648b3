import type { Command } from 'commander';
import { listAuditLog } from '../../app/queries/list-audit-log.js';
import { type CliIo, commandKit, positiveInt } from './command-kit.js';
import { formatTable } from './output.js';

/** `audit …`: the audit trail. */
export function registerAuditCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, system } = commandKit(io);
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
        const rows = await listAuditLog(context.database.db, system(), options.limit);
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
}
