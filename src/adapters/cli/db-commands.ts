import type { Command } from 'commander';
import { AppError } from '../../app/errors.js';
import { describeSchema, renderSchema } from '../../db/describe-schema.js';
import { migrationStatus } from '../../db/migrate.js';
import { migrateAndGrant } from '../../db/runtime-role.js';
import { citusPlan } from '../../db/table-classes.js';
import { type CliIo, commandKit } from './command-kit.js';
import { message } from './messages.js';
import { formatTable } from './output.js';

/** `db …`: migrations and the schema. */
export function registerDbCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang } = commandKit(io);
  // Schema commands work without the encryption key (it is checked by everything that serves data).
  const NO_FIELD_KEY = { fieldKey: false } as const;
  const db = program.command('db').description('database schema');
  db.command('migrate')
    .description('apply pending migrations')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      const global = globals(command);
      await withContext(async (context) => {
        const result = await migrateAndGrant(context.database, context.config.databaseOwnerUrl);
        if (global.json) emitJson(result);
        else {
          if (result.applied.length)
            io.out(`${message(lang(global), 'migrated', { versions: result.applied.join(', ') })}\n`);
          else if (!result.error) io.out(`${message(lang(global), 'upToDate')}\n`);
          if (result.runtimeRole)
            io.out(`${message(lang(global), 'runtimeGranted', { role: result.runtimeRole })}\n`);
        }
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
}
