import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../app/errors.js';
import { authenticate } from '../../app/log-in.js';
import type { Principal } from '../../app/principal.js';
import type { Config } from '../../config/config.js';
import type { AppContext } from '../../app/app-context.js';
import { type Lang, message } from './messages.js';

/**
 * The CLI's login session: the bearer token of a server-side staff session (channel "cli"),
 * kept for the OS user outside the working tree, one file per database, readable only by its owner.
 */
export interface CliSession {
  readonly login: string;
  readonly token: string;
  readonly expiresAt: string;
  readonly osUser: string;
  /** Which database the session belongs to, without any password. */
  readonly database: string;
}

/** The operating-system user running the CLI (recorded on sessions and audit rows). */
export function currentOsUser(): string {
  return os.userInfo().username;
}

/** The database as the session file names it: the server URL without its password, or the data directory. */
export function databaseLabel(config: Config): string {
  if (!config.databaseUrl) return `pglite:${config.dataDir}`;
  const url = new URL(config.databaseUrl);
  url.password = '';
  return url.toString();
}

/** $XDG_CONFIG_HOME/gridcollect/session-<hash of the database identity>.json */
export function sessionFilePath(config: Config): string {
  const identity = config.databaseUrl ?? `pglite:${config.dataDir}`;
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 16);
  return path.join(config.cliConfigDir, `session-${hash}.json`);
}

export async function saveCliSession(config: Config, session: CliSession): Promise<string> {
  const file = sessionFilePath(config);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  // The mode of writeFile applies only to a new file: an older one is narrowed too.
  await chmod(file, 0o600);
  return file;
}

/** The stored session, or null. A file that others may read is refused (its token may have leaked). */
export async function readCliSession(config: Config): Promise<CliSession | null> {
  const file = sessionFilePath(config);
  let text: string;
  try {
    const info = await stat(file);
    if ((info.mode & 0o077) !== 0)
      throw new AppError(
        'unauthenticated',
        `${file} may be read by other users; it is not used: delete it and run gridcollect login again`,
      );
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return JSON.parse(text) as CliSession;
  } catch {
    return null;
  }
}

export async function removeCliSession(config: Config): Promise<void> {
  await rm(sessionFilePath(config), { force: true });
}

/**
 * The staff member the CLI acts as: the one logged in with `gridcollect login` for this OS user
 * and database, with the permissions and scope the API gives them. Commands that change money or
 * approve something call this. Errors: unauthenticated ("not logged in: run gridcollect login").
 */
export async function requireCliPrincipal(context: AppContext, lang: Lang): Promise<Principal> {
  return principalOfSession(context, lang, await readCliSession(context.config));
}

/**
 * The staff member of a CLI session token (the session file's, or the one a forwarded command's
 * caller sent), authenticated as the API does, on channel "cli" with the OS user recorded.
 * No token: "not logged in"; an ended or revoked session: "session ended, log in again".
 */
export async function principalOfSession(
  context: AppContext,
  lang: Lang,
  session: Pick<CliSession, 'token' | 'login'> | null | undefined,
): Promise<Principal> {
  if (!session?.token) throw new AppError('unauthenticated', message(lang, 'notLoggedIn'));
  try {
    return await authenticate({ db: context.database.db, clock: context.clock }, session.token, {
      channel: 'cli',
      osUser: currentOsUser(),
    });
  } catch (error) {
    if (error instanceof AppError && error.code === 'unauthenticated')
      throw new AppError('unauthenticated', message(lang, 'sessionEnded', { login: session.login }));
    throw error;
  }
}
