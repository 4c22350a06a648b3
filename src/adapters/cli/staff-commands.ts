import { Writable } from 'node:stream';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { AppError } from '../../app/errors.js';
import { authenticate, logIn, logOut } from '../../app/log-in.js';
import { systemCliPrincipal } from '../../app/principal.js';
import {
  addStaff,
  changeOwnPassword,
  initFirstAdmin,
  listStaff,
  resetStaffPassword,
  setStaffActive,
} from '../../app/staff-accounts.js';
import type { AppContext } from '../../app/app-context.js';
import { type CliIo, type CommandKit, commandKit } from './command-kit.js';
import {
  currentOsUser,
  databaseLabel,
  readCliSession,
  removeCliSession,
  saveCliSession,
} from './cli-session.js';
import { UsageError } from './cli-errors.js';
import { type Lang, type MessageKey, message } from './messages.js';
import { formatTable } from './output.js';

async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal without echoing it (the prompt goes to standard error). */
async function promptHidden(prompt: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, encoding, done) {
      if (!muted) process.stderr.write(chunk, encoding);
      done();
    },
  });
  const terminal = createInterface({ input: process.stdin, output, terminal: true });
  try {
    process.stderr.write(prompt);
    muted = true;
    const answer = await terminal.question('');
    process.stderr.write('\n');
    return answer;
  } finally {
    terminal.close();
  }
}

/**
 * Passwords a command needs, in order: from standard input one per line (`--password-stdin`), or
 * typed on the terminal without echo. A new password typed on a terminal is asked twice.
 */
async function readPasswords(
  kit: CommandKit,
  lang: Lang,
  fromStdin: boolean,
  prompts: readonly MessageKey[],
): Promise<string[]> {
  if (fromStdin) {
    const lines = (await (kit.io.readStdin ?? readProcessStdin)()).split(/\r?\n/);
    const values = prompts.map((_prompt, index) => lines[index] ?? '');
    const missing = values.findIndex((value) => value.length === 0);
    if (missing >= 0)
      throw new UsageError(
        `--password-stdin: line ${missing + 1} of standard input is empty (expected ${prompts.length} line(s): ${prompts.map((key) => message('en', key).replace(/: $/, '')).join(', ')})`,
      );
    return values;
  }
  return promptPasswords(lang, prompts);
}

/**
 * Passwords typed on the terminal without echo, in order; a new password is asked twice. Also used
 * by a forwarded command's client (forward.ts), which sends them to the server as standard input.
 */
export async function promptPasswords(lang: Lang, prompts: readonly MessageKey[]): Promise<string[]> {
  if (!process.stdin.isTTY) throw new UsageError(message(lang, 'noTerminal'));
  const values: string[] = [];
  for (const prompt of prompts) values.push(await promptHidden(message(lang, prompt)));
  if (prompts.at(-1) === 'newPasswordPrompt') {
    const again = await promptHidden(message(lang, 'repeatPasswordPrompt'));
    if (again !== values.at(-1)) throw new UsageError(message(lang, 'passwordsDiffer'));
  }
  return values;
}

/** What the log-in and staff use cases need from the CLI's context. */
function accountDeps(context: AppContext) {
  return {
    db: context.database.db,
    clock: context.clock,
    tokens: context.tokens,
    passwords: context.passwords,
    sessionHours: context.config.sessionHours,
  };
}

function rolesArg(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(/[,;]/)
      .map((role) => role.trim())
      .filter(Boolean),
  ];
}

/**
 * Staff accounts and the CLI's own login: `init --admin`, `login`, `logout`, `whoami`, `passwd`
 * and the `staff` group (an administrator's commands, run as the logged-in staff member).
 */
export function registerStaffCommands(program: Command, cliIo: CliIo): void {
  const kit = commandKit(cliIo);
  const { io, emitJson, withContext, globals } = kit;
  const lang = (command: Command) => kit.lang(globals(command));
  const say = (command: Command, key: MessageKey, values: Record<string, string | number> = {}) =>
    io.out(`${message(lang(command), key, values)}\n`);
  /** This OS user's session: the caller's when the command was forwarded to a server. */
  const readSession = (context: AppContext) =>
    io.session ? io.session.read() : readCliSession(context.config);

  program
    .command('init')
    .description('give a fresh (non-demo) database its first administrator; refused once it has staff')
    .requiredOption('--admin <login>', 'the administrator’s login')
    .option('--name <name>', 'the administrator’s name', '系统管理员')
    .option('--county <code>', 'code of the county org unit to create (when the database has none)')
    .option('--county-name <name>', 'name of that county org unit')
    .option('--county-name-en <name>', 'its English name')
    .option('--password-stdin', 'read the password from standard input (one line)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const [password] = await readPasswords(kit, lang(command), Boolean(options.passwordStdin), [
        'newPasswordPrompt',
      ]);
      if (options.county && !options.countyName) throw new UsageError('--county needs --county-name');
      await withContext(
        async (context) => {
          const result = await initFirstAdmin(accountDeps(context), systemCliPrincipal(currentOsUser()), {
            login: options.admin,
            name: options.name,
            password: password!,
            ...(options.county
              ? {
                  county: {
                    code: options.county,
                    name: options.countyName,
                    nameEn: options.countyNameEn,
                  },
                }
              : {}),
          });
          if (globals(command).json) emitJson(result);
          else say(command, 'adminCreated', { login: result.login, org: result.orgCode });
        },
        { migrate: true },
      );
    });

  program
    .command('login')
    .description('log in as a staff member; the session is kept for this OS user and database (0600 file)')
    .argument('<login>', 'staff login')
    .option('--password-stdin', 'read the password from standard input (one line)')
    .option('--json', 'print one JSON document')
    .action(async (login: string, options, command: Command) => {
      const [password] = await readPasswords(kit, lang(command), Boolean(options.passwordStdin), [
        'passwordPrompt',
      ]);
      await withContext(async (context) => {
        const osUser = currentOsUser();
        const result = await logIn(accountDeps(context), {
          login,
          password: password!,
          channel: 'cli',
          osUser,
        });
        const session = {
          login,
          token: result.token,
          expiresAt: result.expiresAt.toISOString(),
          osUser,
          database: databaseLabel(context.config),
        };
        // Forwarded: the token goes back to the caller, whose CLI keeps it in its own file.
        const file = io.session
          ? await io.session.save(session)
          : await saveCliSession(context.config, session);
        if (globals(command).json)
          emitJson({ login, name: result.principal.name, expiresAt: result.expiresAt, sessionFile: file });
        else
          say(command, 'loggedIn', {
            login,
            name: result.principal.name,
            expires: result.expiresAt.toISOString(),
          });
      });
    });

  program
    .command('logout')
    .description('end this OS user’s CLI session for the database')
    .action(async (_options, command: Command) => {
      await withContext(async (context) => {
        const session = await readSession(context);
        if (session?.token) {
          try {
            const principal = await authenticate(accountDeps(context), session.token, {
              channel: 'cli',
              osUser: currentOsUser(),
            });
            await logOut(accountDeps(context), session.token, principal);
          } catch (error) {
            // An expired or revoked session has nothing left to end on the server.
            if (!(error instanceof AppError && error.code === 'unauthenticated')) throw error;
          }
        }
        await (io.session ? io.session.remove() : removeCliSession(context.config));
        say(command, session ? 'loggedOut' : 'notLoggedInNow');
      });
    });

  program
    .command('whoami')
    .description('the staff member this OS user’s CLI session acts as')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      await withContext(async (context) => {
        const principal = await kit.actor(context, globals(command));
        if (globals(command).json) emitJson(principal);
        else
          say(command, 'whoami', {
            login: principal.login,
            name: principal.name,
            roles: principal.roles.join(','),
            scope: principal.scopePath,
            osUser: principal.osUser ?? '',
          });
      });
    });

  program
    .command('passwd')
    .description('change your own password (the current one is required); your other sessions end')
    .option('--password-stdin', 'read the current and the new password from standard input (two lines)')
    .action(async (options, command: Command) => {
      const [oldPassword, newPassword] = await readPasswords(
        kit,
        lang(command),
        Boolean(options.passwordStdin),
        ['oldPasswordPrompt', 'newPasswordPrompt'],
      );
      await withContext(async (context) => {
        const principal = await kit.actor(context, globals(command));
        const session = await readSession(context);
        const result = await changeOwnPassword(accountDeps(context), principal, {
          oldPassword: oldPassword!,
          newPassword: newPassword!,
          currentToken: session?.token,
        });
        say(command, 'passwordChanged', { login: result.login, sessions: result.sessionsEnded });
      });
    });

  const staff = program
    .command('staff')
    .description('staff accounts (an administrator, logged in with gridcollect login)');

  staff
    .command('add')
    .description('add a staff member in an org unit of your scope')
    .requiredOption('--login <login>', 'login')
    .requiredOption('--name <name>', 'name')
    .requiredOption('--role <role>', 'role (repeat or comma-separate for several)', rolesArg)
    .requiredOption('--org <code>', 'org unit code')
    .option('--phone <phone>', 'phone number')
    .option('--password-stdin', 'read the first password from standard input (one line)')
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const [password] = await readPasswords(kit, lang(command), Boolean(options.passwordStdin), [
        'newPasswordPrompt',
      ]);
      await withContext(async (context) => {
        const principal = await kit.actor(context, globals(command));
        const result = await addStaff(accountDeps(context), principal, {
          login: options.login,
          name: options.name,
          roles: options.role,
          orgCode: options.org,
          phone: options.phone,
          password: password!,
        });
        if (globals(command).json) emitJson(result);
        else say(command, 'staffAdded', result);
      });
    });

  staff
    .command('list')
    .description('staff of your scope')
    .option('--json', 'print one JSON document')
    .action(async (_options, command: Command) => {
      await withContext(async (context) => {
        const principal = await kit.actor(context, globals(command));
        const rows = await listStaff(context.database.db, principal);
        if (globals(command).json) emitJson(rows);
        else
          io.out(
            formatTable(
              rows.map((row) => ({
                ...row,
                roles: row.roles.join(','),
                active: row.active ? 'yes' : 'no',
                passwordChangedAt: row.passwordChangedAt?.toISOString() ?? '',
              })),
              ['login', 'name', 'roles', 'orgCode', 'active', 'passwordChangedAt'],
            ),
          );
      });
    });

  for (const [name, active] of [
    ['disable', false],
    ['enable', true],
  ] as const) {
    staff
      .command(name)
      .description(
        active
          ? 'enable a disabled staff member again'
          : 'disable a staff member: they cannot log in and their sessions end',
      )
      .argument('<login>', 'staff login')
      .option('--json', 'print one JSON document')
      .action(async (login: string, _options, command: Command) => {
        await withContext(async (context) => {
          const principal = await kit.actor(context, globals(command));
          const result = await setStaffActive(accountDeps(context), principal, login, active);
          if (globals(command).json) emitJson(result);
          else if (active) say(command, 'staffEnabled', { login });
          else say(command, 'staffDisabled', { login, sessions: result.sessionsEnded });
        });
      });
  }

  staff
    .command('reset-password')
    .description('set a new password for a staff member who lost theirs; their sessions end')
    .argument('<login>', 'staff login')
    .option('--password-stdin', 'read the new password from standard input (one line)')
    .action(async (login: string, options, command: Command) => {
      const [password] = await readPasswords(kit, lang(command), Boolean(options.passwordStdin), [
        'newPasswordPrompt',
      ]);
      await withContext(async (context) => {
        const principal = await kit.actor(context, globals(command));
        const result = await resetStaffPassword(accountDeps(context), principal, login, password!);
        say(command, 'passwordReset', { login, sessions: result.sessionsEnded });
      });
    });
}
