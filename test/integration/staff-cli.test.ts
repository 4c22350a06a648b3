import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliIn } from '../support/cli-login.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { TEST_KEY_HEX } from '../support/demo.js';

/** The real CLI in-process, with standard input (test/support/cli-login.ts). */
const cli = (env: Record<string, string>, stdin: string, ...argv: string[]) => cliIn(env, argv, stdin);

describeEachDatabase('Staff CLI', (kind) => {
  let dir: string;
  let database: TestDatabase | undefined;
  let env: Record<string, string>;
  const osUser = os.userInfo().username;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-staff-cli-'));
    env = {
      GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
      GRIDCOLLECT_LANG: 'en',
      XDG_CONFIG_HOME: path.join(dir, 'config'),
      // PostgreSQL requires an explicit key; the embedded database makes one under XDG_CONFIG_HOME.
      GRIDCOLLECT_ENCRYPTION_KEY: TEST_KEY_HEX,
    };
    if (kind === 'postgres') {
      database = await createTestDatabase(kind);
      env.DATABASE_URL = database.url!;
    }
  });
  afterAll(async () => {
    await database?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('initialises the first administrator once', async () => {
    const args = [
      'init',
      '--admin',
      'chief',
      '--county',
      'C09',
      '--county-name',
      '测试县',
      '--password-stdin',
    ];
    const first = await cli(env, 'Admin-pass-2026\n', ...args);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/First administrator chief created \(org C09\)/);
    const second = await cli(env, 'Admin-pass-2026\n', ...args);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already_initialised/);
  });

  it('refuses commands that act as a person until someone logs in', async () => {
    const result = await cli(env, '', 'whoami');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/not logged in: run gridcollect login/);
    const zh = await cli({ ...env, GRIDCOLLECT_LANG: 'zh-CN' }, '', 'staff', 'list');
    expect(zh.stderr).toMatch(/未登录/);
  });

  it('logs in, keeps the session in a 0600 file outside the working tree, and says who acts', async () => {
    const wrong = await cli(env, 'not-the-password\n', 'login', 'chief', '--password-stdin');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/invalid_credentials/);
    const result = await cli(env, 'Admin-pass-2026\n', 'login', 'chief', '--password-stdin');
    expect(result.code).toBe(0);
    const sessionDir = path.join(dir, 'config', 'gridcollect');
    const files = await readdir(sessionDir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^session-[0-9a-f]{16}\.json$/);
    expect((await stat(path.join(sessionDir, files[0]!))).mode & 0o777).toBe(0o600);
    const whoami = await cli(env, '', 'whoami');
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toMatch(
      new RegExp(`^chief \\(系统管理员\\) roles: admin; scope: /1/; OS user: ${osUser}`),
    );
  });

  it('runs the staff commands as the logged-in administrator; the audit trail names the CLI and OS user', async () => {
    const added = await cli(
      env,
      'Clerk-pass-2026\n',
      ...[
        'staff',
        'add',
        '--login',
        'c09.clerk',
        '--name',
        '王会计',
        '--role',
        'cashier,collector',
        '--org',
        'C09',
      ],
      '--password-stdin',
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const weak = await cli(
      env,
      'gridcollect\n',
      ...['staff', 'add', '--login', 'c09.weak', '--name', '弱', '--role', 'cashier', '--org', 'C09'],
      '--password-stdin',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/password_rejected: password: a published demo password/);
    const list = JSON.parse((await cli(env, '', 'staff', 'list', '--json')).stdout) as {
      login: string;
      roles: string[];
      active: boolean;
    }[];
    expect(list).toEqual([
      expect.objectContaining({ login: 'c09.clerk', roles: ['cashier', 'collector'], active: true }),
      expect.objectContaining({ login: 'chief', roles: ['admin'] }),
    ]);
    expect(
      (await cli(env, 'Clerk-pass-2027\n', 'staff', 'reset-password', 'c09.clerk', '--password-stdin')).code,
    ).toBe(0);
    expect((await cli(env, '', 'staff', 'disable', 'c09.clerk')).stdout).toMatch(/c09.clerk disabled/);
    const audit = JSON.parse((await cli(env, '', 'audit', 'list', '--json')).stdout) as {
      action: string;
      channel: string | null;
      osUser: string | null;
    }[];
    expect(audit.find((row) => row.action === 'staff.add')).toMatchObject({ channel: 'cli', osUser });
    expect(audit.find((row) => row.action === 'auth.login')).toMatchObject({ channel: 'cli', osUser });
    expect(audit.find((row) => row.action === 'staff.init_admin')).toMatchObject({ channel: 'cli', osUser });
  });

  it('changes the own password with the current one, then logs out', async () => {
    const wrong = await cli(env, 'not-it-at-all\nNew-admin-pass-1\n', 'passwd', '--password-stdin');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/invalid_credentials/);
    const changed = await cli(env, 'Admin-pass-2026\nNew-admin-pass-1\n', 'passwd', '--password-stdin');
    expect(changed.code).toBe(0);
    expect((await cli(env, '', 'whoami')).code).toBe(0);
    expect((await cli(env, '', 'logout')).stdout).toMatch(/Logged out/);
    expect(await readdir(path.join(dir, 'config', 'gridcollect'))).toEqual([]);
    expect((await cli(env, '', 'whoami')).stderr).toMatch(/not logged in/);
    expect((await cli(env, 'Admin-pass-2026\n', 'login', 'chief', '--password-stdin')).code).toBe(1);
    expect((await cli(env, 'New-admin-pass-1\n', 'login', 'chief', '--password-stdin')).code).toBe(0);
  });
});
