import os from 'node:os';
import type { Command } from 'commander';
import type { AppContext } from '../../app/app-context.js';
import type { Clock } from '../../app/ports.js';
import { type LocalDate, type Period, addMonths, parsePeriod, periodOf } from '../../domain/local-date.js';
import { billDemoHistory } from '../../jobs/demo/bill-demo-history.js';
import {
  DEMO_PLATFORM,
  demoPlatformSecret,
  type PlatformGateway,
} from '../../jobs/demo/collect-demo-payments.js';
import { createDemoCounty } from '../../jobs/demo/create-demo-county.js';
import { payChannelDay } from '../channel-client/channel-simulator.js';
import { hashPassword } from '../crypto/password-hash.js';
import { DEMO_PASSWORD } from '../../domain/password-policy.js';
import { fileCodec } from '../files/file-codec.js';
import { anyInt, type CliIo, commandKit, periodArg, positiveInt } from './command-kit.js';
import { type Lang, message } from './messages.js';
import { progressBar } from './output.js';

/** `demo`: the demo county, its billing history and collections (also used by `start`). */
export function registerDemoCommands(program: Command, io: CliIo): void {
  const { emitJson, withContext, globals, lang } = commandKit(io);
  program
    .command('demo')
    .description('create the demo county in an empty database (registry and months of reads)')
    .requiredOption('--customers <n>', 'number of customers', positiveInt('--customers'))
    .requiredOption('--months <m>', 'months of reads', positiveInt('--months'))
    .requiredOption('--seed <s>', 'random seed', anyInt)
    .option('--until <period>', 'last period with reads (default: last month)', periodArg)
    .option(
      '--reads-only',
      'stop after the reads; otherwise every month is also billed, its held reads resolved by the station checker, and released',
    )
    .option('--concurrency <n>', 'partitions written at once (PostgreSQL)', positiveInt('--concurrency'))
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      await withContext(
        async (context) => {
          const summary = await runDemo(context, {
            customers: options.customers,
            months: options.months,
            seed: options.seed,
            until: options.until,
            concurrency: options.concurrency,
            progress: !global.json,
            lang: lang(global),
          });
          const billing = options.readsOnly
            ? null
            : await runDemoBilling(context, !global.json, lang(global), io.err);
          if (global.json) emitJson({ ...summary, billing });
          else {
            io.out(`${summaryLine(lang(global), summary)}\n`);
            if (billing) {
              io.out(
                `${message(lang(global), 'demoBilled', { periods: billing.periods, bills: billing.bills, resolved: billing.resolved, payments: billing.payments, withheld: billing.withheld })}\n`,
              );
            }
          }
        },
        { migrate: true },
      );
    });
}

export const DEMO_LOGIN = { login: 'admin', password: DEMO_PASSWORD } as const;

export async function runDemo(
  context: AppContext,
  options: {
    customers: number;
    months: number;
    seed: number;
    until: string | undefined;
    concurrency: number | undefined;
    progress: boolean;
    lang: Lang;
  },
) {
  const untilPeriod = options.until
    ? parsePeriod(options.until)!
    : addMonths(periodOf(context.clock.today()), -1);
  const bar = progressBar(message(options.lang, 'demoBuilding'), options.progress);
  try {
    return await createDemoCounty(context.database.db, {
      seed: options.seed,
      customers: options.customers,
      months: options.months,
      untilPeriod,
      passwordHash: await hashPassword(DEMO_LOGIN.password),
      encrypt: context.cipher.encrypt,
      concurrency: options.concurrency ?? (context.database.kind === 'postgres' ? 2 : 1),
      worker: `${os.hostname()}:${process.pid}`,
      onProgress: (done, total) => bar.update(done, total),
    });
  } finally {
    bar.stop();
  }
}

/**
 * The demo platform as a real channel client: an in-process server on a loopback port takes its
 * signed requests (/channel/v1), and the platform posts each business day's payments and uploads
 * the day's reconciliation file, as a partner written from docs/channel-api.md does.
 */
async function withDemoPlatform<T>(
  context: AppContext,
  seed: number,
  work: (gateway: PlatformGateway) => Promise<T>,
): Promise<T> {
  const { buildServer } = await import('../http/server.js');
  // The platform replays past business days: while it pays a day, that day is the server's
  // business day (so the channel's open-day window admits it), and instants stay real (request
  // timestamps and nonces are checked against the real time).
  let replayedDay: LocalDate | undefined;
  const replayClock: Clock = {
    now: () => context.clock.now(),
    today: () => replayedDay ?? context.clock.today(),
    dateOf: (at) => context.clock.dateOf(at),
  };
  const app = await buildServer({
    db: context.database.db,
    databaseKind: context.database.kind,
    clock: replayClock,
    tokens: context.tokens,
    passwords: context.passwords,
    sessionHours: context.config.sessionHours,
    logLevel: 'silent',
    version: context.version,
    pdfFontPath: context.config.pdfFontPath,
    timeZone: context.config.timeZone,
    cipher: context.cipher,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  // The platform's secret is random per installation: read back once the platform is registered.
  let secret: string | null = null;
  try {
    return await work(async (businessDate, payments) => {
      replayedDay = businessDate;
      secret ??= await demoPlatformSecret(context.database.db, context.cipher.decrypt);
      if (secret === null) throw new Error(`the demo channel ${DEMO_PLATFORM.code} is not registered`);
      const target = { baseUrl: `http://127.0.0.1:${port}`, channelId: DEMO_PLATFORM.code, secret };
      await payChannelDay(target, businessDate, payments, {
        // PGlite serves one statement at a time; PostgreSQL shares commits among requests.
        concurrency: context.database.kind === 'postgres' ? 16 : 4,
        duplicates: 0.05,
        seed: seed * 1000 + Number(businessDate.replaceAll('-', '')),
        // A day is reconciled once it is over: today's file would close today for the platform.
        reconcile: businessDate < context.clock.today(),
      });
    });
  } finally {
    await app.close();
  }
}

/** Optional hooks of the demo history: a line per finished month, and a way to stop between months. */
export interface DemoBillingHooks {
  readonly onMonth?: (done: number, total: number, period: Period) => void;
  readonly shouldStop?: () => boolean;
}

/** `say` prints what the operator must see once (the demo platform's random secret). */
export async function runDemoBilling(
  context: AppContext,
  progress: boolean,
  lang: Lang,
  say: (text: string) => void,
  hooks: DemoBillingHooks = {},
) {
  const demo = await context.database.db.selectFrom('demo_county').select('seed').executeTakeFirst();
  return withDemoPlatform(context, demo?.seed ?? 1, (gateway) =>
    billDemo(context, progress, lang, gateway, say, hooks),
  );
}

async function billDemo(
  context: AppContext,
  progress: boolean,
  lang: Lang,
  gateway: PlatformGateway,
  say: (text: string) => void,
  hooks: DemoBillingHooks,
) {
  const bar = progressBar(message(lang, 'demoBilling'), progress);
  try {
    const demo = await context.database.db.selectFrom('demo_county').select('seed').executeTakeFirst();
    return await billDemoHistory(context.database.db, {
      concurrency: context.database.kind === 'postgres' ? 2 : 1,
      worker: `${os.hostname()}:${process.pid}`,
      collect: {
        context: {
          encrypt: context.cipher.encrypt,
          decrypt: context.cipher.decrypt,
          codec: fileCodec,
          today: context.clock.today(),
          seed: demo?.seed ?? 1,
          platformGateway: gateway,
          onPlatformSecret: (code, secret) =>
            say(`${message(lang, 'demoPlatformSecret', { code, secret })}\n`),
        },
        clock: context.clock,
      },
      onProgress: (done, total, period) => {
        bar.update(done, total);
        hooks.onMonth?.(done, total, period);
      },
      ...(hooks.shouldStop ? { shouldStop: hooks.shouldStop } : {}),
    });
  } finally {
    bar.stop();
  }
}

export function summaryLine(lang: Lang, summary: Awaited<ReturnType<typeof runDemo>>): string {
  const values = {
    stations: summary.stations,
    areas: summary.transformerAreas,
    staff: summary.staff,
    customers: summary.customers,
    reads: summary.reads,
    first: summary.firstPeriod,
    last: summary.lastPeriod,
  };
  return message(lang, summary.alreadyCreated ? 'demoExists' : 'demoDone', values);
}
