import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataDirLockedError, acquireDataDirLock, liveHolder } from '../../src/db/data-dir-lock.js';
import { createTestDatabase, testedDatabaseKinds } from '../support/databases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/gridcollect.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function gridcollect(env: NodeJS.ProcessEnv, argv: string[], stdin?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...argv], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Starts `gridcollect serve` and waits until it prints its URL. */
async function startServer(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 120_000);
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const match = /running: (http:\/\/\S+\/)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`serve exited early with ${code}: ${output}`)));
  });
  return { child, url };
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (code) => resolve(code)),
  );
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A process that has already exited: its PID names nobody (or somebody else). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await exited(child);
  return child.pid!;
}

describe('the data directory lock', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-lock-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is taken once: a second opener is refused with the holder named, and may take it after release', async () => {
    const dataDir = path.join(dir, 'once');
    const lock = await acquireDataDirLock(dataDir, 'gridcollect serve');
    const refused = await acquireDataDirLock(dataDir, 'gridcollect bill run').catch((error) => error);
    expect(refused).toBeInstanceOf(DataDirLockedError);
    expect(refused.holder).toMatchObject({ pid: process.pid, command: 'gridcollect serve' });
    expect((await stat(lock.lockDir)).mode & 0o777).toBe(0o700);
    expect((await stat(path.join(lock.lockDir, 'owner.json'))).mode & 0o777).toBe(0o600);
    await lock.release();
    expect(await liveHolder(dataDir)).toBeNull();
    const again = await acquireDataDirLock(dataDir, 'gridcollect bill run');
    await again.release();
  });

  it('treats the record of a process that is gone, or of a reused PID, as stale', async () => {
    for (const [name, owner] of [
      ['killed', { pid: await deadPid(), startedAs: null }],
      // A live PID with another start time: the holder died and the PID went to someone else.
      ['reused', { pid: process.ppid, startedAs: 'another-boot:1' }],
    ] as const) {
      const dataDir = path.join(dir, name);
      await mkdir(`${dataDir}.lock`, { recursive: true, mode: 0o700 });
      await writeFile(
        path.join(`${dataDir}.lock`, 'owner.json'),
        JSON.stringify({
          ...owner,
          hostname: os.hostname(),
          since: '2026-01-01T00:00:00Z',
          command: 'gridcollect serve',
          nonce: 'stale',
        }),
      );
      expect(await liveHolder(dataDir)).toBeNull();
      const lock = await acquireDataDirLock(dataDir, 'gridcollect demo');
      expect(lock.owner.pid).toBe(process.pid);
      await lock.release();
    }
  });

  it('lets exactly one of several openers break a stale lock', async () => {
    const dataDir = path.join(dir, 'race');
    await mkdir(`${dataDir}.lock`, { recursive: true, mode: 0o700 });
    await writeFile(
      path.join(`${dataDir}.lock`, 'owner.json'),
      JSON.stringify({
        pid: await deadPid(),
        startedAs: null,
        hostname: os.hostname(),
        since: '2026-01-01T00:00:00Z',
        command: 'gridcollect serve',
        nonce: 'stale',
      }),
    );
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, k) => acquireDataDirLock(dataDir, `opener ${k}`)),
    );
    const won = results.filter((result) => result.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const result of results)
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DataDirLockedError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireDataDirLock>>>).value.release();
  });

  it.runIf(testedDatabaseKinds().includes('postgres'))(
    'is not taken on PostgreSQL, where many processes share the server',
    async () => {
      const database = await createTestDatabase('postgres');
      expect(database.lock).toBeUndefined();
      const other = await database.openAnother!(1);
      expect(other.lock).toBeUndefined();
      await database.close();
    },
  );
});

// The compiled command as operators run it, several processes on one embedded data directory.
describe('gridcollect processes on one embedded data directory', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist/main/cli.js')))
      throw new Error('run `npm run build` first (npm install does it)');
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-onewriter-'));
    env = {
      ...process.env,
      GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
      GRIDCOLLECT_LANG: 'en',
      DATABASE_URL: '',
      GRIDCOLLECT_LOG_LEVEL: 'silent',
      XDG_CONFIG_HOME: path.join(dir, 'config'),
    };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a second CLI process while the first holds the directory (exit 2, holder named)', async () => {
    const demo = spawn(
      process.execPath,
      [BIN, 'demo', '--customers', '100', '--months', '1', '--seed', '1', '--json'],
      { env, stdio: 'ignore' },
    );
    await waitFor(() => existsSync(path.join(dir, 'data.lock', 'owner.json')), 'the demo to take the lock');
    const second = await gridcollect(env, ['customer', 'list', '--limit', '1']);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`held by process ${demo.pid} (gridcollect demo`);
    expect(second.stderr).toMatch(/wait for it to finish.*PostgreSQL/);
    expect(second.stdout).toBe('');
    expect(await exited(demo)).toBe(0);
  }, 240_000);

  it('forwards commands to a running server, whose effect survives its stop; refuses the rest', async () => {
    const owing = JSON.parse(
      (await gridcollect(env, ['customer', 'list', '--owing', '--limit', '1', '--json'])).stdout,
    ) as { customerNo: string; totalDue: string }[];
    expect(owing).toHaveLength(1);
    const customer = owing[0]!;
    // The cashier logs in (the session is kept for this OS user) before the server starts.
    const login = await gridcollect(env, ['login', 's01.cashier1', '--password-stdin'], 'gridcollect\n');
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const adminEnv = { ...env, XDG_CONFIG_HOME: path.join(dir, 'config-admin') };
    const adminLogin = await gridcollect(adminEnv, ['login', 'admin', '--password-stdin'], 'gridcollect\n');
    expect(adminLogin.code).toBe(0);

    const { child: server } = await startServer(env);
    try {
      const owner = JSON.parse(await readFile(path.join(dir, 'data.lock', 'owner.json'), 'utf8'));
      expect(owner).toMatchObject({ pid: server.pid, command: 'gridcollect serve' });
      expect((await stat(owner.forward.socket)).mode & 0o777).toBe(0o600);

      // Without a session, a forwarded payment is refused as a local one is (the server's own
      // user's session is not used for it).
      const anonymous = await gridcollect({ ...env, XDG_CONFIG_HOME: path.join(dir, 'nobody') }, [
        'payment',
        'post',
        '--customer',
        customer.customerNo,
        '--amount',
        customer.totalDue,
        '--key',
        'ONE-WRITER-0',
      ]);
      expect(anonymous.code).toBe(1);
      expect(anonymous.stderr).toMatch(/not logged in: run gridcollect login/);

      // A payment posted from the CLI while the server runs, as the caller's signed-in cashier.
      const paid = await gridcollect(env, [
        'payment',
        'post',
        '--customer',
        customer.customerNo,
        '--amount',
        customer.totalDue,
        '--key',
        'ONE-WRITER-1',
        '--json',
      ]);
      expect(paid.stderr).toBe('');
      expect(paid.code).toBe(0);
      const receipt = JSON.parse(paid.stdout);
      expect(receipt).toMatchObject({ customerNo: customer.customerNo, amount: customer.totalDue });
      const audit = JSON.parse(
        (await gridcollect(env, ['audit', 'list', '--limit', '20', '--json'])).stdout,
      ) as {
        action: string;
        objectId: string;
      }[];
      expect(
        audit.find((row) => row.action === 'payment.post' && row.objectId === receipt.receiptNo),
      ).toMatchObject({ actorKind: 'staff', channel: 'cli', osUser: os.userInfo().username });

      // Signing in while the server holds the database: the password goes as the forwarded
      // command's standard input (never argv), and the session lands in the caller's own file.
      const lateEnv = { ...env, XDG_CONFIG_HOME: path.join(dir, 'config-late') };
      const lateLogin = await gridcollect(
        lateEnv,
        ['login', 's01.cashier1', '--password-stdin'],
        'gridcollect\n',
      );
      expect(lateLogin.stderr).toBe('');
      expect(lateLogin.code).toBe(0);
      const sessionFiles = (await readdir(path.join(dir, 'config-late', 'gridcollect'))).filter((name) =>
        name.startsWith('session-'),
      );
      expect(sessionFiles).toHaveLength(1);
      const sessionFile = path.join(dir, 'config-late', 'gridcollect', sessionFiles[0]!);
      expect((await stat(sessionFile)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(await readFile(sessionFile, 'utf8'))).toMatchObject({ login: 's01.cashier1' });
      const who = await gridcollect(lateEnv, ['whoami']);
      expect(who.code).toBe(0);
      expect(who.stdout).toContain('s01.cashier1');
      const next = (
        JSON.parse(
          (
            await gridcollect(lateEnv, [
              'customer',
              'list',
              '--owing',
              '--station',
              'QH01',
              '--limit',
              '1',
              '--json',
            ])
          ).stdout,
        ) as { customerNo: string; totalDue: string }[]
      )[0]!;
      const latePaid = await gridcollect(lateEnv, [
        'payment',
        'post',
        '--customer',
        next.customerNo,
        '--amount',
        next.totalDue,
        '--key',
        'ONE-WRITER-LATE',
        '--json',
      ]);
      expect(latePaid.stderr).toBe('');
      expect(latePaid.code).toBe(0);
      const lateAudit = JSON.parse(
        (await gridcollect(env, ['audit', 'list', '--limit', '20', '--json'])).stdout,
      ) as { action: string; objectId: string; actorLogin?: string }[];
      expect(
        lateAudit.find(
          (row) => row.action === 'payment.post' && row.objectId === JSON.parse(latePaid.stdout).receiptNo,
        ),
      ).toMatchObject({ actorKind: 'staff', channel: 'cli' });
      const logout = await gridcollect(lateEnv, ['logout']);
      expect(logout.code).toBe(0);
      expect(existsSync(sessionFile)).toBe(false);
      const afterLogout = await gridcollect(lateEnv, ['whoami']);
      expect(afterLogout.code).not.toBe(0);
      expect(afterLogout.stderr).toMatch(/not logged in/);

      // Standard input travels too, and a refusal from the command comes back with its exit code.
      // (as the administrator, who may manage tariffs; the file's own error names its field).
      const tariffs = await gridcollect(adminEnv, ['tariff', 'import', '-'], '{"tariffs": "none"}');
      expect(tariffs.code).not.toBe(0);
      expect(tariffs.stderr).toMatch(/tariffs/);
      expect(tariffs.stderr).not.toMatch(/forbidden/);
      // The cashier's forwarded session is checked on the server: no tariffs for a cashier.
      const cashierTariffs = await gridcollect(env, ['tariff', 'import', '-'], '{"tariffs": "none"}');
      expect(cashierTariffs.code).not.toBe(0);
      expect(cashierTariffs.stderr).toMatch(/forbidden: role cashier may not tariff.manage/);

      // A batch job and a second server are refused, naming the server.
      const billing = await gridcollect(env, ['bill', 'run', '--period', '2026-11']);
      expect(billing.code).toBe(2);
      expect(billing.stderr).toContain(`held by process ${server.pid} (gridcollect serve`);
      expect(billing.stderr).toContain('POST /api/v1/billing/runs');
      expect(billing.stderr).toMatch(/payment post\|reverse\|receipt/);
      const second = await gridcollect(env, ['serve', '--port', '0']);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(`kill ${server.pid}`);

      // Only the holder of the token is served.
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const call = request(
          {
            socketPath: owner.forward.socket,
            method: 'POST',
            path: '/cli/v1/run',
            headers: { 'content-type': 'application/json', 'x-gridcollect-token': 'guess' },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode);
          },
        );
        call.on('error', reject);
        call.end(JSON.stringify({ argv: ['customer', 'list'], pid: 1 }));
      });
      expect(status).toBe(403);
    } finally {
      server.kill('SIGTERM');
      expect(await exited(server)).toBe(0);
    }
    expect(existsSync(path.join(dir, 'data.lock', 'owner.json'))).toBe(false);

    // The server stopped: the payment is in the database the CLI now opens itself.
    const after = JSON.parse((await gridcollect(env, ['customer', 'list', '--json'])).stdout) as {
      customerNo: string;
      totalDue: string;
    }[];
    expect(after.find((row) => row.customerNo === customer.customerNo)?.totalDue).toBe('0.00');
  }, 300_000);

  it('takes over from a server killed with -9', async () => {
    const { child: server } = await startServer(env);
    server.kill('SIGKILL');
    await exited(server);
    const result = await gridcollect(env, ['db', 'status', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).database).toBe('pglite');
  }, 240_000);

  it.runIf(process.platform === 'linux')(
    'takes over from a killed holder not yet reaped (zombie); says "retry" while a live one does not answer',
    async () => {
      // A holder announcing a socket nobody listens on, run under `sleep`, which never reaps it:
      // killed with -9 it stays a zombie that kill(pid, 0) still finds.
      const script = `import { acquireDataDirLock } from ${JSON.stringify(path.join(ROOT, 'dist/db/data-dir-lock.js'))};
      const lock = await acquireDataDirLock(process.env.HOLD_DIR, 'gridcollect serve');
      await lock.announce({ socket: process.env.HOLD_SOCKET, token: 'x' });
      console.log('ready');
      setInterval(() => {}, 1000);`;
      const parent = spawn(
        'sh',
        ['-c', `"${process.execPath}" --input-type=module -e "$HOLD_SCRIPT" & echo "pid $!"; exec sleep 120`],
        {
          env: {
            ...env,
            HOLD_SCRIPT: script,
            HOLD_DIR: path.join(dir, 'data'),
            HOLD_SOCKET: path.join(dir, 'nowhere.sock'),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        let output = '';
        parent.stdout!.on('data', (chunk) => {
          output += chunk;
        });
        await waitFor(() => /pid (\d+)[\s\S]*ready/.test(output), 'the holder to take the lock');
        const pid = Number(/pid (\d+)/.exec(output)![1]);

        const unreachable = await gridcollect(env, ['db', 'status', '--json']);
        expect(unreachable.code).toBe(2);
        expect(unreachable.stderr).toContain(`server unreachable; retry: the server (PID ${pid})`);
        expect(unreachable.stderr).not.toMatch(/cannot be forwarded/);

        process.kill(pid, 'SIGKILL');
        await waitFor(async () => {
          const state = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
          return / Z /.test(state.slice(state.lastIndexOf(')')));
        }, 'the holder to be a zombie');
        const result = await gridcollect(env, ['db', 'status', '--json']);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
      } finally {
        parent.kill('SIGKILL');
        await exited(parent);
      }
    },
    240_000,
  );
});
