import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import {
  chmod,
  link,
  lstat,
  mkdir,
  open,
  readFile,
  realpath,
  rename,
  unlink,
  writeFile,
} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * One writer per embedded data directory.
 *
 * Two PGlite instances on one data directory corrupt it (each is a whole PostgreSQL that believes
 * it is alone). Node has no flock, so the lock is a file `<data dir>.lock/owner.json` (directory
 * 0700, file 0600) made with link(2), which is atomic and fails when the file exists: the owner
 * record appears whole or not at all. It names the holder: PID, host, the process's start time
 * (Linux: boot id and start tick from /proc, so a reused PID is not mistaken for the holder),
 * the command and, for a server, where it takes forwarded CLI commands.
 *
 * A holder that exits normally removes the file. One killed with -9 leaves it behind; the next
 * opener finds the PID gone (or another process under it) and breaks the stale lock under a short
 * second lock (`breaker`, O_EXCL), removing the owner file only if it is still the stale record it
 * judged, so two processes breaking the same stale lock never both win.
 */

/** Where a server holding the directory takes forwarded CLI commands (see adapters/cli/forward.ts). */
export interface ForwardEndpoint {
  /** Unix domain socket, mode 0600, in a directory only the OS user can enter. */
  readonly socket: string;
  /** A random token the client sends back: a second check besides the file modes. */
  readonly token: string;
}

export interface LockOwner {
  readonly pid: number;
  readonly hostname: string;
  /** The process's identity beyond its PID: `<boot id>:<start tick>` on Linux, null elsewhere. */
  readonly startedAs: string | null;
  /** ISO time the lock was taken. */
  readonly since: string;
  /** The command holding it, e.g. "gridcollect serve" (no option values: they may be secrets). */
  readonly command: string;
  readonly nonce: string;
  readonly forward?: ForwardEndpoint;
}

/** The data directory is held by another live process (or by this one already). */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dataDir: string,
    readonly lockDir: string,
    /** null when the owner record cannot be read (another OS user's lock directory). */
    readonly holder: LockOwner | null,
  ) {
    super(
      holder
        ? `数据目录 ${dataDir} 正被进程 ${holder.pid} (${holder.command}) 使用 / the data directory ${dataDir} is held by process ${holder.pid} (${holder.command}${holder.hostname === os.hostname() ? '' : ` on ${holder.hostname}`}) since ${holder.since}`
        : `数据目录 ${dataDir} 被锁定 (${lockDir} 不可读) / the data directory ${dataDir} is locked (${lockDir} is not readable)`,
    );
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  readonly lockDir: string;
  readonly owner: LockOwner;
  /** Adds the forwarding endpoint to the owner record (the holder is a server). */
  announce(forward: ForwardEndpoint): Promise<void>;
  release(): Promise<void>;
}

const OWNER = 'owner.json';
const BREAKER = 'breaker';
/** A breaker older than this was left by a process killed while breaking a stale lock. */
const BREAKER_STALE_MS = 10_000;

/** Locks this process holds, by lock directory: removed on exit even without release(). */
const heldHere = new Map<string, string>();
let exitHookInstalled = false;

/** `<data dir>.lock`, beside the data directory (as the key file `<data dir>.key` is). */
export async function lockDirOf(dataDir: string): Promise<{ dataDir: string; lockDir: string }> {
  const absolute = path.resolve(dataDir);
  const parent = path.dirname(absolute);
  await mkdir(parent, { recursive: true });
  // One directory reached through a symbolic link is still one directory.
  const canonical = path.join(await realpath(parent), path.basename(absolute));
  return { dataDir: canonical, lockDir: `${canonical}.lock` };
}

/** Takes the lock or throws DataDirLockedError naming the live holder. */
export async function acquireDataDirLock(
  dataDir: string,
  command: string = commandLabel(process.argv),
): Promise<DataDirLock> {
  const where = await lockDirOf(dataDir);
  const { lockDir } = where;
  await mkdir(lockDir, { recursive: true, mode: 0o700 });
  const stat = await lstat(lockDir);
  if (stat.uid === process.getuid?.() && (stat.mode & 0o077) !== 0) await chmod(lockDir, 0o700);
  const owner: LockOwner = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAs: processIdentity(process.pid),
    since: new Date().toISOString(),
    command,
    nonce: randomBytes(16).toString('hex'),
  };
  const ownerPath = path.join(lockDir, OWNER);
  for (let attempt = 0; attempt < 100; attempt++) {
    const temporary = path.join(lockDir, `owner.${process.pid}.${owner.nonce}.tmp`);
    try {
      await writeFile(temporary, JSON.stringify(owner), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if (errorCode(error) === 'EACCES') throw new DataDirLockedError(where.dataDir, lockDir, null);
      throw error;
    }
    try {
      await link(temporary, ownerPath);
      await unlink(temporary);
      return held(where, owner);
    } catch (error) {
      await unlink(temporary).catch(() => {});
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    const seen = await readOwnerText(ownerPath);
    if (seen === undefined) continue; // released meanwhile: try again
    const holder = parseOwner(seen);
    if (holder && isAlive(holder, lockDir)) throw new DataDirLockedError(where.dataDir, lockDir, holder);
    await breakStaleLock(lockDir, seen);
  }
  throw new Error(`could not take the lock ${lockDir}: it keeps changing hands`);
}

/** The live holder of a data directory, or null when it is free (or its lock is stale). */
export async function liveHolder(dataDir: string): Promise<LockOwner | null> {
  const { lockDir } = await lockDirOf(dataDir);
  let seen: string | undefined;
  try {
    seen = await readOwnerText(path.join(lockDir, OWNER));
  } catch (error) {
    // Another OS user's lock: nothing to forward to; opening the directory will be refused.
    if (errorCode(error) === 'EACCES') return null;
    throw error;
  }
  if (seen === undefined) return null;
  const holder = parseOwner(seen);
  return holder && isAlive(holder, lockDir) ? holder : null;
}

/** The command words of a CLI argv ("payment post") and where the rest begins; `--lang x` skipped. */
export function commandWords(argv: readonly string[]): { words: string[]; rest: number; lang?: string } {
  const words: string[] = [];
  let lang: string | undefined;
  let k = 0;
  for (; k < argv.length && words.length < 2; k++) {
    const arg = argv[k]!;
    if (arg === '--lang') lang = argv[++k];
    else if (arg.startsWith('--lang=')) lang = arg.slice('--lang='.length);
    else if (arg.startsWith('-')) break;
    else words.push(arg);
  }
  return { words, rest: k, ...(lang ? { lang } : {}) };
}

/**
 * The command a process runs, for the owner record: the program and its command words
 * ("gridcollect bill run"); option values are left out, they may hold secrets.
 */
export function commandLabel(argv: readonly string[]): string {
  const program = argv[1] ? path.basename(argv[1]).replace(/\.(c|m)?js$/, '') : 'node';
  return [program === 'cli' ? 'gridcollect' : program, ...commandWords(argv.slice(2)).words].join(' ');
}

function held(where: { dataDir: string; lockDir: string }, first: LockOwner): DataDirLock {
  let owner = first;
  const ownerPath = path.join(where.lockDir, OWNER);
  heldHere.set(where.lockDir, owner.nonce);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const [lockDir, nonce] of heldHere) removeIfOursSync(path.join(lockDir, OWNER), nonce);
    });
  }
  return {
    ...where,
    get owner() {
      return owner;
    },
    async announce(forward) {
      owner = { ...owner, forward };
      // Replaces the record in one rename; only the holder ever renames onto it.
      const temporary = path.join(where.lockDir, `owner.${process.pid}.${owner.nonce}.tmp`);
      await writeFile(temporary, JSON.stringify(owner), { mode: 0o600 });
      await rename(temporary, ownerPath);
    },
    async release() {
      if (heldHere.get(where.lockDir) !== owner.nonce) return;
      heldHere.delete(where.lockDir);
      removeIfOursSync(ownerPath, owner.nonce);
    },
  };
}

function removeIfOursSync(ownerPath: string, nonce: string): void {
  try {
    const current = parseOwner(readFileSync(ownerPath, 'utf8'));
    if (current?.nonce === nonce) unlinkSync(ownerPath);
  } catch {
    // Already gone.
  }
}

/** Removes the owner file if it is still the stale record `seen`, under the breaker lock. */
async function breakStaleLock(lockDir: string, seen: string): Promise<void> {
  const breaker = path.join(lockDir, BREAKER);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(breaker, 'wx', 0o600);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const stat = await lstat(breaker).catch(() => null);
    if (stat && Date.now() - stat.mtimeMs > BREAKER_STALE_MS) await unlink(breaker).catch(() => {});
    else await new Promise((resolve) => setTimeout(resolve, 20));
    return;
  }
  try {
    const ownerPath = path.join(lockDir, OWNER);
    if ((await readOwnerText(ownerPath)) === seen) await unlink(ownerPath);
  } finally {
    await handle.close();
    await unlink(breaker).catch(() => {});
  }
}

function isAlive(owner: LockOwner, lockDir: string): boolean {
  // Another host's process cannot be checked from here: taken as alive.
  if (owner.hostname !== os.hostname()) return true;
  if (owner.pid === process.pid) return heldHere.get(lockDir) === owner.nonce;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
    // EPERM: the process exists under another user.
  }
  // A holder killed with -9 stays a zombie until its parent reaps it: kill(0) still finds it.
  if (processState(owner.pid) === 'dead') return false;
  const identity = processIdentity(owner.pid);
  return !(owner.startedAs && identity && identity !== owner.startedAs);
}

/** 'dead' for a zombie (Z) or dying (X) process on Linux (/proc); 'unknown' elsewhere. */
function processState(pid: number): 'dead' | 'unknown' {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state === 'Z' || state === 'X' ? 'dead' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `<boot id>:<start tick>` of a process on Linux (/proc), null where there is no /proc. */
function processIdentity(pid: number): string | null {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name in parentheses (which may itself hold spaces or parentheses):
    // state is field 3, starttime field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = fields[22 - 3];
    return start ? `${boot}:${start}` : null;
  } catch {
    return null;
  }
}

async function readOwnerText(ownerPath: string): Promise<string | undefined> {
  try {
    return await readFile(ownerPath, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const value = JSON.parse(text) as LockOwner;
    return typeof value.pid === 'number' && typeof value.nonce === 'string' ? value : null;
  } catch {
    return null;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
