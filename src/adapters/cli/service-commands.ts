import os from 'node:os';
import type { Command } from 'commander';
import { sql } from 'kysely';
import type { AppContext } from '../../app/app-context.js';
import type { Period } from '../../domain/local-date.js';
import { runBilling } from '../../jobs/billing/run-billing.js';
import { workOnDemoRun } from '../../jobs/demo/create-demo-county.js';
import { anyInt, type CliIo, commandKit, positiveInt } from './command-kit.js';
import { isDemoDatabase } from '../../app/installation-settings.js';
import { DEMO_LOGIN, runDemo, runDemoBilling, summaryLine } from './demo-commands.js';
import { type Lang, message } from './messages.js';

/** `worker`, `serve` and `start`: the long-running processes. */
export function registerServiceCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang, config } = commandKit(io);
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
      const context = await io.openContext(config());
      await serve(context, { port: options.port, host: options.host, lang: lang(globals(command)), io });
    });

  program
    .command('start')
    .description('migrate, create the demo county when the database is empty, then serve (npm start)')
    .option('--port <port>', 'port (default 3000)', anyInt)
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const context = await io.openContext(config(), { migrate: true });
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
        // The server answers at once; the demo county's months fill in behind it, oldest first,
        // each usable as soon as it is released (the page shows the progress from the data).
        const demo = await context.database.db.selectFrom('demo_county').select('demo_id').executeTakeFirst();
        await serve(context, {
          port: options.port,
          host: options.host,
          lang: lang(global),
          io,
          // A database that an administrator initialised is not the demo: no demo login to show.
          showLogin: await isDemoDatabase(context.database.db),
          ...(demo ? { background: () => demoHistoryInBackground(context, lang(global), io) } : {}),
        });
      } catch (error) {
        await context.close().catch(() => {});
        throw error;
      }
    });
}

/**
 * Runs the demo county's remaining months in the background of `start`: one log line per month
 * (also when standard error is not a terminal), and a stop that waits for the month in progress,
 * which the resumable history would otherwise redo at the next start.
 */
function demoHistoryInBackground(
  context: AppContext,
  language: Lang,
  io: CliIo,
): { stop: () => Promise<void> } {
  let stopping = false;
  const started = Date.now();
  const done = runDemoBilling(context, false, language, io.err, {
    shouldStop: () => stopping,
    onMonth: (monthsDone, total, period) => {
      const seconds = Math.round((Date.now() - started) / 1000);
      io.err(`${message(language, 'demoMonthReady', { period, done: monthsDone, total, seconds })}\n`);
    },
  }).then(
    (billing) => {
      if (!billing.alreadyDone && !billing.stopped && billing.periods > 0) {
        io.err(
          `${message(language, 'demoBilled', { periods: billing.periods, bills: billing.bills, resolved: billing.resolved, payments: billing.payments, withheld: billing.withheld })}\n`,
        );
      }
    },
    (error: unknown) => {
      io.err(
        `${message(language, 'demoFailed', { error: error instanceof Error ? error.message : String(error) })}\n`,
      );
    },
  );
  return {
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

async function serve(
  context: AppContext,
  options: {
    port?: number;
    host?: string;
    lang: Lang;
    io: { out: (text: string) => void; err: (text: string) => void };
    showLogin?: boolean;
    /** Work started once the server listens; its stop is awaited on SIGTERM/SIGINT before closing. */
    background?: () => { stop: () => Promise<void> };
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
  // CLI commands run beside the server reach the embedded database through it (forward.ts).
  const { listenForCli } = await import('./forward-host.js');
  const { runCli } = await import('./program.js');
  const forwarding = await listenForCli(context, runCli);
  options.io.out(`${message(options.lang, 'serving', { url })}\n`);
  if (options.showLogin) options.io.out(`${message(options.lang, 'demoLogin', DEMO_LOGIN)}\n`);
  const work = options.background?.();
  await new Promise<void>((resolve) => {
    const stop = async () => {
      options.io.err(`${message(options.lang, 'stopping')}\n`);
      await work?.stop();
      await forwarding?.close();
      await app.close();
      await context.close();
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
