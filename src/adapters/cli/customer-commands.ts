import type { Command } from 'commander';
import { listCustomers } from '../../app/queries/list-customers.js';
import { type CliIo, commandKit, positiveInt, stationFilter, stationOption } from './command-kit.js';
import { message } from './messages.js';
import { formatTable } from './output.js';

/** `customer …`: the customer registry. */
export function registerCustomerCommands(program: Command, io: CliIo): void {
  const { withContext, globals, lang, system } = commandKit(io);
  const customer = program.command('customer').description('customers');
  customer
    .command('list')
    .description('list customers with the amount due')
    .option('--owing', 'only customers with totalDue > 0')
    .option('--limit <n>', 'at most this many (default: all)', positiveInt('--limit'))
    .addOption(stationOption())
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
          const page = await listCustomers(context.database.db, system(), {
            limit: Math.min(5000, limit - printed),
            ...(after !== undefined ? { afterCustomerId: after } : {}),
            ...(options.owing ? { owing: true } : {}),
            ...(await stationFilter(context, options.station)),
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
}
