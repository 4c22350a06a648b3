import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import type { Principal } from '../../app/principal.js';
import type { AppContext } from '../../app/app-context.js';
import { cliForwardRoutes } from '../http/routes/cli-forward-routes.js';
import { principalOfSession } from './cli-session.js';
import { type ForwardRequest, cliLang } from './forward.js';
import { runWithoutProgress } from './output.js';
import type { CliIo } from './program.js';

/** Unix socket paths are limited to about 104 bytes (macOS) or 108 (Linux). */
const SOCKET_PATH_MAX = 100;

/**
 * Who a forwarded command that changes money or approves something acts as: the caller's own CLI
 * session, which the client sends with the request, authenticated here like the API's (channel
 * "cli"). The socket admits only the OS user who runs the server, so that is the OS user recorded.
 * Without a session the command is refused ("not logged in") as it would be run locally; the
 * session of the server's own user is never used for it.
 */
export function forwardedActor(context: AppContext, request: ForwardRequest): Promise<Principal> {
  return principalOfSession(
    context,
    cliLang(request.argv, () => context.config),
    request.session,
  );
}

/**
 * Starts the server's endpoint for forwarded CLI commands (see forward.ts) and announces it in the
 * data directory's lock. Only an embedded database with a data directory has a lock to announce in;
 * on PostgreSQL (or in memory) nothing is started and the CLI opens the database itself.
 */
export async function listenForCli(
  context: AppContext,
  runCli: (argv: readonly string[], io: CliIo) => Promise<number>,
): Promise<{ close(): Promise<void> } | undefined> {
  const lock = context.database.lock;
  if (!lock) return undefined;
  const socket = await socketPath(lock.lockDir);
  await unlink(socket).catch(() => {}); // left by a holder killed with -9; the lock is ours now
  const token = randomBytes(32).toString('base64url');
  const app = Fastify({ logger: false });
  await app.register(
    cliForwardRoutes({
      token,
      run: (request, io) => {
        // The server's own context, not closed after the command; its configuration, the
        // client's language (the client always sends --lang).
        return runWithoutProgress(() =>
          runCli(request.argv, {
            ...io,
            config: () => context.config,
            context: () => context,
            openContext: async () => context,
            sessionPrincipal: () => forwardedActor(context, request),
            readStdin: async () => request.stdin ?? '',
            session: {
              read: async () => request.session ?? null,
              save: async (session) => {
                io.session(session);
                return request.sessionFile ?? '';
              },
              remove: async () => io.session(null),
            },
          }),
        );
      },
    }),
  );
  const previousMask = process.umask(0o177);
  try {
    await app.listen({ path: socket });
  } finally {
    process.umask(previousMask);
  }
  await chmod(socket, 0o600);
  await lock.announce({ socket, token });
  return {
    async close() {
      await app.close();
      await unlink(socket).catch(() => {});
    },
  };
}

/**
 * `<data dir>.lock/cli.sock`, in the lock directory (mode 0700). When that path is too long for a
 * socket, a directory of the OS user's own under the system temporary directory (created 0700,
 * refused unless it is ours and closed to others).
 */
async function socketPath(lockDir: string): Promise<string> {
  const beside = path.join(lockDir, 'cli.sock');
  if (Buffer.byteLength(beside) <= SOCKET_PATH_MAX) return beside;
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(os.tmpdir(), `gridcollect-${uid}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await lstat(dir);
  if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0)
    throw new Error(`${dir} must be a directory of user ${uid} with mode 0700 (for the CLI socket)`);
  const name = createHash('sha256').update(lockDir).digest('hex').slice(0, 16);
  return path.join(dir, `${name}.sock`);
}
