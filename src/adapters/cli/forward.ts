import { request } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Config } from '../../config/config.js';
import { ConfigError, loadConfig } from '../../config/config.js';
import { type DataDirLockedError, type LockOwner, commandWords, liveHolder } from '../../db/data-dir-lock.js';
import type { CliSession } from './cli-session.js';
import { type Lang, type MessageKey, message } from './messages.js';

/**
 * While a server holds the embedded data directory, CLI commands that an operator runs beside the
 * web UI are sent to that server (over the Unix socket it announced in the lock's owner record)
 * and run there, in-process, against its database; the CLI prints what they print and exits with
 * their code. Everything else is refused by the lock with a message naming the holder.
 *
 * How a command's file arguments travel: paths are made absolute here (the server has its own
 * working directory), and `-` (standard input) is copied to a private temporary file first.
 */
interface Forwardable {
  /** Options whose value is a path (`--out`). */
  readonly pathOptions?: readonly string[];
  /** The first positional argument is a path (or `-` for standard input). */
  readonly pathArgument?: boolean;
  /** Options that take a value, to find the positional argument among them. */
  readonly valueOptions?: readonly string[];
  /**
   * The passwords the command reads (`--password-stdin`, else typed on the terminal): read HERE,
   * by the client, and sent to the server as the command's standard input, never in argv.
   */
  readonly passwords?: readonly MessageKey[];
}

/** The commands that run through a server holding the embedded database (documented in README). */
export const FORWARDABLE: ReadonlyMap<string, Forwardable> = new Map<string, Forwardable>([
  ['customer list', {}],
  ['payment post', {}],
  ['payment reverse', {}],
  ['payment receipt', { pathOptions: ['--out'] }],
  ['bill release', {}],
  ['bill rebill', {}],
  ['bill pdf', { pathOptions: ['--out'] }],
  ['bill area-list', { pathOptions: ['--out'] }],
  ['reads import', { pathArgument: true, valueOptions: ['--format'] }],
  ['reads quality', {}],
  ['tariff import', { pathArgument: true }],
  ['tariff list', {}],
  ['ledger verify', {}],
  ['ledger request', {}],
  ['ledger approve', {}],
  ['ledger reject', {}],
  ['ledger pay-out', {}],
  ['ledger requests', {}],
  ['hold request', {}],
  ['hold approve', {}],
  ['hold list', {}],
  ['deposit receive', {}],
  ['deposit apply', {}],
  ['channel add', {}],
  ['channel list', {}],
  ['channel enable', {}],
  ['channel disable', {}],
  ['channel rotate-secret', {}],
  ['channel cases', {}],
  ['channel settlement', {}],
  ['channel simulate', {}],
  ['bank export', { pathOptions: ['--out'] }],
  ['bank import', { pathArgument: true, valueOptions: ['--chunk'] }],
  ['cash deposit', {}],
  ['cash close-shift', {}],
  ['cash on-hand', {}],
  ['audit list', {}],
  ['db status', {}],
  // The CLI's own session: the session file is the caller's (written by this client).
  ['login', { passwords: ['passwordPrompt'] }],
  ['logout', {}],
  ['whoami', {}],
  ['passwd', { passwords: ['oldPasswordPrompt', 'newPasswordPrompt'] }],
  ['staff add', { passwords: ['newPasswordPrompt'] }],
  ['staff list', {}],
  ['staff disable', {}],
  ['staff enable', {}],
  ['staff reset-password', { passwords: ['newPasswordPrompt'] }],
]);

/**
 * Commands refused while a server holds the embedded database, with what to do instead. The rest
 * of the database commands (demo, worker, db migrate|schema|citus-plan, serve, start) get the
 * general advice: stop the server first.
 */
const REFUSED_HINTS: Readonly<Record<string, 'hintBillRun' | 'hintBatch'>> = {
  'bill run': 'hintBillRun',
  worker: 'hintBatch',
  'late-fee month-end': 'hintBatch',
};

const GLOBAL_VALUE_OPTIONS = ['--lang'];

function forwardableOf(argv: readonly string[]): { key: string; spec: Forwardable } | undefined {
  const { words } = commandWords(argv);
  if (argv.some((arg) => arg === '-h' || arg === '--help') || words[0] === 'help') return undefined;
  for (const key of [words.join(' '), words[0] ?? '']) {
    const spec = FORWARDABLE.get(key);
    if (spec) return { key, spec };
  }
  return undefined;
}

/** The CLI's language: `--lang` on the command line, else the configuration (zh-CN by default). */
export function cliLang(argv: readonly string[], config: () => Config): Lang {
  const { lang } = commandWords(argv);
  if (lang === 'zh-CN' || lang === 'en') return lang;
  try {
    return config().lang;
  } catch {
    return 'zh-CN';
  }
}

export interface ForwardIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly config?: () => Config;
  /** Set when the command already runs inside the server (never forwarded twice). */
  readonly context?: unknown;
}

/**
 * Sends the command to the server holding the embedded database when there is one and the command
 * may run there; returns its exit code, or undefined to run the command here (where the lock will
 * refuse it if the directory is still held).
 */
export async function forwardIfServerHolds(
  argv: readonly string[],
  io: ForwardIo,
): Promise<number | undefined> {
  if (io.context) return undefined;
  const forwardable = forwardableOf(argv);
  if (!forwardable) return undefined;
  let config: Config;
  try {
    config = (io.config ?? loadConfig)();
  } catch (error) {
    if (error instanceof ConfigError) return undefined; // reported by the normal path
    throw error;
  }
  if (config.databaseUrl) return undefined; // PostgreSQL: many processes are fine
  const holder = await liveHolder(config.dataDir);
  if (!holder?.forward) return undefined;
  const lang = cliLang(argv, () => config);
  const scratch = { dir: undefined as string | undefined };
  try {
    const sent = await absolutePaths(argv, forwardable.spec, scratch);
    const stdin = forwardable.spec.passwords
      ? await passwordsForServer(sent, forwardable.spec.passwords, lang)
      : undefined;
    return await sendToServer(
      holder,
      { argv: ['--lang', lang, ...sent], session: await callerSession(config), stdin },
      config,
      io,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ECONNREFUSED' && code !== 'ENOENT') throw error;
    // Nobody answers on the socket: the server stopped (or was killed) between reading the owner
    // record and connecting. Gone: run here, where opening the directory takes over its stale
    // lock. Still alive after a short wait: it is starting, stopping or stuck; say so.
    if (!(await stillHolds(config.dataDir, holder))) return undefined;
    io.err(
      `gridcollect: ${message(lang, 'serverUnreachable', { pid: holder.pid, socket: holder.forward.socket })}\n`,
    );
    return 2;
  } finally {
    if (scratch.dir) await rm(scratch.dir, { recursive: true, force: true });
  }
}

/** Whether `holder` (same record) still holds the data directory after about a second. */
async function stillHolds(dataDir: string, holder: LockOwner): Promise<boolean> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await liveHolder(dataDir);
    if (current?.nonce !== holder.nonce) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

async function absolutePaths(
  argv: readonly string[],
  spec: Forwardable,
  scratch: { dir: string | undefined },
): Promise<string[]> {
  const args = [...argv];
  const { rest } = commandWords(argv);
  const valueOptions = [...GLOBAL_VALUE_OPTIONS, ...(spec.valueOptions ?? []), ...(spec.pathOptions ?? [])];
  let positionalSeen = false;
  for (let k = rest; k < args.length; k++) {
    const arg = args[k]!;
    const option = spec.pathOptions?.find((name) => arg === name || arg.startsWith(`${name}=`));
    if (option) {
      if (arg === option) {
        if (k + 1 < args.length) args[k + 1] = path.resolve(args[k + 1]!);
        k++;
      } else args[k] = `${option}=${path.resolve(arg.slice(option.length + 1))}`;
    } else if (arg.startsWith('-') && arg !== '-') {
      if (valueOptions.includes(arg)) k++;
    } else if (spec.pathArgument && !positionalSeen) {
      positionalSeen = true;
      if (arg === '-') {
        scratch.dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-stdin-'));
        const file = path.join(scratch.dir, 'stdin');
        await writeFile(file, await readStdin(), { mode: 0o600 });
        args[k] = file;
      } else args[k] = path.resolve(arg);
    }
  }
  return args;
}

/**
 * The passwords of a forwarded command, as the standard input it reads with --password-stdin:
 * this process's standard input when given --password-stdin, else typed here on the terminal
 * (then --password-stdin is added to argv for the server). Never in argv.
 */
async function passwordsForServer(
  argv: string[],
  prompts: readonly MessageKey[],
  lang: Lang,
): Promise<string> {
  if (argv.includes('--password-stdin')) return (await readStdin()).toString('utf8');
  const { promptPasswords } = await import('./staff-commands.js');
  const typed = await promptPasswords(lang, prompts);
  argv.push('--password-stdin');
  return `${typed.join('\n')}\n`;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The request the server's CLI endpoint takes (routes/cli-forward-routes.ts). */
export interface ForwardRequest {
  readonly argv: readonly string[];
  /** The client's PID, for the server's log. */
  readonly pid: number;
  /**
   * The caller's CLI session (`gridcollect login`), so the command acts as the same signed-in
   * person on the server; absent when the caller is not logged in.
   */
  readonly session?: { readonly login: string; readonly token: string };
  /** Standard input of a command that reads passwords (`--password-stdin`), read by the client. */
  readonly stdin?: string;
  /** Where the client keeps its session file (printed by `login --json`). */
  readonly sessionFile?: string;
}

/**
 * One line of the streamed answer: a piece of standard output or error, a CLI session for the
 * client to keep in its own session file (`login`; null: remove it, `logout`), then the exit code.
 */
export type ForwardEvent =
  | { out: string }
  | { err: string }
  | { session: CliSession | null }
  | { exit: number };

export const FORWARD_PATH = '/cli/v1/run';
export const FORWARD_TOKEN_HEADER = 'x-gridcollect-token';

/**
 * The caller's session for this database, if any; a session file others may read is not sent (the
 * command then runs as not logged in, and one that changes money is refused).
 */
async function callerSession(config: Config): Promise<ForwardRequest['session']> {
  const { readCliSession } = await import('./cli-session.js');
  const session = await readCliSession(config).catch(() => null);
  return session?.token ? { login: session.login, token: session.token } : undefined;
}

async function sendToServer(
  holder: LockOwner,
  command: Pick<ForwardRequest, 'argv' | 'session' | 'stdin'>,
  config: Config,
  io: ForwardIo,
): Promise<number> {
  const forward = holder.forward!;
  const sessions = await import('./cli-session.js');
  const body = JSON.stringify({
    argv: command.argv,
    pid: process.pid,
    ...(command.session ? { session: command.session } : {}),
    ...(command.stdin !== undefined ? { stdin: command.stdin } : {}),
    sessionFile: sessions.sessionFilePath(config),
  } satisfies ForwardRequest);
  // The session the server answers is kept here, in this OS user's file for this database.
  const keep = async (session: CliSession | null): Promise<void> => {
    if (session)
      await sessions.saveCliSession(config, { ...session, database: sessions.databaseLabel(config) });
    else await sessions.removeCliSession(config);
  };
  let kept: Promise<unknown> = Promise.resolve();
  return new Promise<number>((resolve, reject) => {
    const call = request(
      {
        socketPath: forward.socket,
        method: 'POST',
        path: FORWARD_PATH,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          [FORWARD_TOKEN_HEADER]: forward.token,
        },
      },
      (response) => {
        if (response.statusCode !== 200) {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => {
            text += chunk;
          });
          response.on('end', () =>
            reject(new Error(`the server refused the command (${response.statusCode}): ${text}`)),
          );
          return;
        }
        let exit: number | undefined;
        const lines = createInterface({ input: response, crlfDelay: Number.POSITIVE_INFINITY });
        lines.on('line', (line) => {
          if (!line) return;
          const event = JSON.parse(line) as ForwardEvent;
          if ('out' in event) io.out(event.out);
          else if ('err' in event) io.err(event.err);
          else if ('session' in event) kept = kept.then(() => keep(event.session));
          else exit = event.exit;
        });
        lines.on('close', () =>
          exit === undefined
            ? reject(new Error('the server closed the connection before the command finished'))
            : kept.then(() => resolve(exit!), reject),
        );
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

/** "customer list, payment post|reverse|receipt, …": the allow-list grouped by command. */
export function forwardableSummary(): string {
  const groups = new Map<string, string[]>();
  for (const key of FORWARDABLE.keys()) {
    const [group, sub] = key.split(' ') as [string, string | undefined];
    groups.set(group, [...(groups.get(group) ?? []), ...(sub ? [sub] : [])]);
  }
  return [...groups].map(([group, subs]) => `${group} ${subs.join('|')}`.trim()).join(', ');
}

/** The refusal of a command while another process holds the data directory (exit 2). */
export function lockedMessage(error: DataDirLockedError, argv: readonly string[], lang: Lang): string {
  const holder = error.holder;
  if (!holder) return message(lang, 'dataDirUnreadable', { dataDir: error.dataDir, lockDir: error.lockDir });
  const lines = [
    message(lang, 'dataDirHeld', {
      dataDir: error.dataDir,
      pid: holder.pid,
      command: holder.command,
      since: holder.since,
      host: holder.hostname === os.hostname() ? '' : ` @ ${holder.hostname}`,
    }),
  ];
  const { words } = commandWords(argv);
  const hint = REFUSED_HINTS[words.join(' ')] ?? REFUSED_HINTS[words[0] ?? ''];
  if (holder.forward) {
    lines.push(message(lang, 'serverRefuses', { pid: holder.pid }));
    if (hint) lines.push(message(lang, hint));
    lines.push(message(lang, 'forwardable', { commands: forwardableSummary() }));
  } else lines.push(message(lang, 'waitForHolder', { pid: holder.pid }));
  return lines.map((line) => `gridcollect: ${line}\n`).join('');
}
