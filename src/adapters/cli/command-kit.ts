import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { AppContext, OpenAppContext } from '../../app/app-context.js';
import { stationIdByCode } from '../../app/org-units.js';
import { type Principal, systemCliPrincipal } from '../../app/principal.js';
import { type Config, loadConfig } from '../../config/config.js';
import { parsePeriod } from '../../domain/local-date.js';
import { InputError } from './cli-errors.js';
import { type CliSession, currentOsUser, requireCliPrincipal } from './cli-session.js';
import type { Lang } from './messages.js';

// What every command group shares: the streams, the context, option parsers and input readers.
// A group lives in its own `<group>-commands.ts`, exporting `register<Group>Commands(program, io)`,
// and program.ts adds it to the command tree.

/** Exit codes of the scripting contract (docs/cli.md): 0 ok, 1 some items failed, 2 usage or configuration error. */
export const EXIT = { ok: 0, itemsFailed: 1, usage: 2 } as const;

/** What the CLI talks to; src/main/cli.ts wires the real ones, tests their own. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Where configuration comes from; the environment by default (tests pass their own). */
  readonly config?: () => Config;
  /** Opens the application for a command; src/main wires createAppContext here. */
  readonly openContext: OpenAppContext;
  /** Standard input for --password-stdin; the process's by default (tests pass their own). */
  readonly readStdin?: () => Promise<string>;
  /** A context to run against instead of opening one (a command forwarded to the server). */
  readonly context?: () => AppContext;
  /**
   * A forwarded command's actor: the caller's own session, authenticated by the server that runs
   * the command (forward-host.ts). When set, the session file of the server's user is never read.
   */
  readonly sessionPrincipal?: () => Promise<Principal>;
  /**
   * A forwarded command's CLI session (login, logout, passwd): the caller's, kept in the CALLER's
   * session file. `read` is what the caller sent; `save` and `remove` go back to the caller, whose
   * CLI writes or deletes its own file (forward.ts); `save` answers that file's path.
   */
  readonly session?: {
    readonly read: () => Promise<Pick<CliSession, 'login' | 'token'> | null>;
    readonly save: (session: CliSession) => Promise<string>;
    readonly remove: () => Promise<void>;
  };
}

export interface GlobalOptions {
  json?: boolean;
  lang?: Lang;
}

/** The helpers a command group builds its actions from, derived from the CLI's io. */
export interface CommandKit {
  readonly io: CliIo;
  readonly config: () => Config;
  readonly lang: (options: GlobalOptions) => Lang;
  readonly emitJson: (value: unknown) => void;
  /** Opens the context for one action and closes it afterwards, whatever happens. */
  readonly withContext: <T>(
    fn: (context: AppContext) => Promise<T>,
    options?: { migrate?: boolean; fieldKey?: boolean },
  ) => Promise<T>;
  readonly globals: (command: Command) => GlobalOptions;
  /**
   * Who a command that changes money or approves something acts as: the staff member of the
   * session `gridcollect login` keeps for this OS user (forwarded: the caller's session), with the
   * permissions and scope the API gives them. No session: refused ("not logged in").
   */
  readonly actor: (context: AppContext, options: GlobalOptions) => Promise<Principal>;
  /** Read-only commands: the system, with the OS user recorded (audit channel `cli`). */
  readonly system: () => Principal;
  /** Batch commands (billing run, month-end jobs): the system, audit channel `job`, OS user recorded. */
  readonly batch: () => Principal;
}

export function commandKit(io: CliIo): CommandKit {
  const config = io.config ?? loadConfig;
  return {
    io,
    config,
    lang: (options) => options.lang ?? config().lang,
    emitJson: (value) => io.out(`${JSON.stringify(value, null, 2)}\n`),
    withContext: async (fn, options = {}) => {
      const context = io.context?.() ?? (await io.openContext(config(), options));
      try {
        return await fn(context);
      } finally {
        if (!io.context) await context.close();
      }
    },
    globals: (command) => command.optsWithGlobals() as GlobalOptions,
    actor: (context, options) =>
      io.sessionPrincipal
        ? io.sessionPrincipal()
        : requireCliPrincipal(context, options.lang ?? context.config.lang),
    system: () => systemCliPrincipal(currentOsUser()),
    batch: () => ({ ...systemCliPrincipal(currentOsUser()), channel: 'job' }),
  };
}

// The HTTP server and PDF rendering are the heaviest modules (0.3 s and 0.15 s to load here):
// only the commands that use them import them, so every other command, a billing run's
// workers above all, starts without them.
export async function pdfRendering() {
  const [pdf, font] = await Promise.all([import('../files/bill-pdf.js'), import('../files/pdf-font.js')]);
  return { ...pdf, findPdfFont: font.findPdfFont };
}

export function positiveInt(name: string) {
  return (value: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1)
      throw new InvalidArgumentError(`${name} must be a positive integer`);
    return parsed;
  };
}

/** `--station CODE`: a supply station by the org unit code people use (QH01), never an internal id. */
export function stationOption(): Option {
  return new Option('--station <code>', 'only this supply station (org unit code, e.g. QH01)');
}

/** The `stationId` filter of a `--station CODE` (nothing without one); an unknown code is not_found. */
export async function stationFilter(
  context: AppContext,
  code: string | undefined,
): Promise<{ stationId?: number }> {
  return code === undefined ? {} : { stationId: await stationIdByCode(context.database.db, code) };
}

export function anyInt(value: string) {
  const parsed = Number(value);
  if (!Number.isInteger(parsed)) throw new InvalidArgumentError('must be an integer');
  return parsed;
}

export function periodArg(value: string) {
  const parsed = parsePeriod(value);
  if (!parsed) throw new InvalidArgumentError('must be YYYY-MM');
  return parsed;
}

/** A JSON document from a file, or from standard input for `-`; unreadable or invalid input is an InputError. */
export async function readJsonInput(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(
      `input: cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`input: not valid JSON (${(error as Error).message})`);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
