import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { hashPassword, verifyPassword } from '../../src/adapters/crypto/password-hash.js';
import { buildServer } from '../../src/adapters/http/server.js';
import { markDemoDatabase } from '../../src/app/installation-settings.js';
import { DUMMY_PASSWORD_HASH, logIn } from '../../src/app/log-in.js';
import type { Clock } from '../../src/app/ports.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { initFirstAdmin } from '../../src/app/staff-accounts.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { DEMO_PASSWORD_HASH } from '../support/demo.js';
import { TEST_CIPHER, TEST_NOW } from '../support/server.js';

const ADMIN_PASSWORD = 'Admin-pass-2026';

describeEachDatabase('Staff accounts', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let now = TEST_NOW;
  const clock: Clock = { ...fixedClock(TEST_NOW, 'Asia/Shanghai'), now: () => new Date(now) };
  const passwords = { verify: verifyPassword, hash: hashPassword };
  const tokens = { newToken: () => randomBytes(24).toString('base64url') };
  const deps = () => ({ db: database.db, clock, passwords, tokens, sessionHours: 12 });
  let adminToken: string;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    app = await buildServer({
      ...deps(),
      databaseKind: database.kind,
      cipher: TEST_CIPHER,
      logLevel: 'silent',
      version: 'test',
    });
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const login = (user: string, password: string, remoteAddress = '10.0.0.1') =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: user, password },
      remoteAddress,
    });
  const call = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const addStaff = (body: object, token = adminToken) => call('POST', '/api/v1/staff', token, body);

  it('gives a fresh database its first administrator once, and refuses a second time', async () => {
    const first = await initFirstAdmin(deps(), CLI_PRINCIPAL, {
      login: 'root',
      name: '系统管理员',
      password: ADMIN_PASSWORD,
      county: { code: 'C01', name: '测试县供电公司' },
    });
    expect(first).toMatchObject({ login: 'root', orgCode: 'C01', countyCreated: true });
    await expect(
      initFirstAdmin(deps(), CLI_PRINCIPAL, { login: 'root2', name: 'x', password: 'Another-pass-99' }),
    ).rejects.toMatchObject({ code: 'already_initialised' });
    const response = await login('root', ADMIN_PASSWORD);
    expect(response.statusCode).toBe(200);
    adminToken = response.json().token;
  });

  it('lets an administrator add and list staff; audit rows say they came through the API', async () => {
    const added = await addStaff({
      login: 'c01.cashier',
      name: '张收费',
      roles: ['cashier'],
      orgCode: 'C01',
      password: 'Cashier-pass-1',
    });
    expect(added.statusCode).toBe(201);
    const list = (await call('GET', '/api/v1/staff', adminToken)).json<
      { login: string; active: boolean }[]
    >();
    expect(list.map((row) => row.login)).toEqual(['c01.cashier', 'root']);
    expect(list.every((row) => row.active)).toBe(true);
    const again = await addStaff({
      login: 'c01.cashier',
      name: '重复',
      roles: ['cashier'],
      orgCode: 'C01',
      password: 'Cashier-pass-1',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('login_taken');
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['channel', 'os_user', 'actor_id'])
      .where('action', '=', 'staff.add')
      .execute();
    expect(audit).toEqual([{ channel: 'api', os_user: null, actor_id: expect.any(String) }]);
  });

  it('refuses passwords that are short, contain the login or are a published demo password', async () => {
    for (const [password, pattern] of [
      ['Short-1', /at least 10/],
      ['xx-c01.Clerk-2026', /login/],
      ['gridcollect', /demo password/],
    ] as const) {
      const response = await addStaff({
        login: 'c01.clerk',
        name: '李',
        roles: ['billing_checker'],
        orgCode: 'C01',
        password,
      });
      expect(response.statusCode, password).toBe(422);
      expect(response.json().error).toMatchObject({
        code: 'password_rejected',
        message: expect.stringMatching(pattern),
      });
    }
    expect((await login('c01.clerk', 'gridcollect')).statusCode).toBe(401);
  });

  it('lets only an administrator manage staff', async () => {
    const cashier = (await login('c01.cashier', 'Cashier-pass-1')).json().token as string;
    expect((await call('GET', '/api/v1/staff', cashier)).statusCode).toBe(403);
    const response = await addStaff(
      { login: 'c01.x', name: 'x', roles: ['admin'], orgCode: 'C01', password: 'Escalate-pass-1' },
      cashier,
    );
    expect(response.statusCode).toBe(403);
  });

  it('keeps a disabled staff member out and ends their sessions at once', async () => {
    const token = (await login('c01.cashier', 'Cashier-pass-1')).json().token as string;
    expect((await call('GET', '/api/v1/me', token)).statusCode).toBe(200);
    const disabled = await call('POST', '/api/v1/staff/c01.cashier/disable', adminToken);
    expect(disabled.json()).toMatchObject({ active: false, sessionsEnded: 2 });
    expect((await call('GET', '/api/v1/me', token)).statusCode).toBe(401);
    const refused = await login('c01.cashier', 'Cashier-pass-1');
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('invalid_credentials');
    expect((await call('POST', '/api/v1/staff/root/disable', adminToken)).statusCode).toBe(400);
    await call('POST', '/api/v1/staff/c01.cashier/enable', adminToken);
    expect((await login('c01.cashier', 'Cashier-pass-1')).statusCode).toBe(200);
  });

  it('resets a forgotten password: the old one and its sessions stop working', async () => {
    const token = (await login('c01.cashier', 'Cashier-pass-1')).json().token as string;
    const reset = await call('POST', '/api/v1/staff/c01.cashier/password', adminToken, {
      password: 'Cashier-pass-2',
    });
    expect(reset.statusCode).toBe(200);
    expect((await call('GET', '/api/v1/me', token)).statusCode).toBe(401);
    expect((await login('c01.cashier', 'Cashier-pass-1')).statusCode).toBe(401);
    expect((await login('c01.cashier', 'Cashier-pass-2')).statusCode).toBe(200);
  });

  it('lets a staff member change their own password with the current one; other sessions end', async () => {
    const other = (await login('c01.cashier', 'Cashier-pass-2')).json().token as string;
    const current = (await login('c01.cashier', 'Cashier-pass-2')).json().token as string;
    const wrong = await call('POST', '/api/v1/me/password', current, {
      oldPassword: 'not-my-password',
      newPassword: 'Cashier-pass-3',
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('invalid_credentials');
    const weak = await call('POST', '/api/v1/me/password', current, {
      oldPassword: 'Cashier-pass-2',
      newPassword: 'short',
    });
    expect(weak.json().error.code).toBe('password_rejected');
    const changed = await call('POST', '/api/v1/me/password', current, {
      oldPassword: 'Cashier-pass-2',
      newPassword: 'Cashier-pass-3',
    });
    expect(changed.statusCode).toBe(200);
    expect((await call('GET', '/api/v1/me', current)).statusCode).toBe(200);
    expect((await call('GET', '/api/v1/me', other)).statusCode).toBe(401);
    expect((await login('c01.cashier', 'Cashier-pass-2')).statusCode).toBe(401);
    expect((await login('c01.cashier', 'Cashier-pass-3')).statusCode).toBe(200);
  });

  it('locks a login for 30 s after 5 failures, doubling after the next, and records the lockout', async () => {
    for (let attempt = 1; attempt <= 5; attempt++)
      expect((await login('root', 'wrong-password', '10.0.1.1')).statusCode).toBe(401);
    // Locked: even the right password, from another address, waits.
    const locked = await login('root', ADMIN_PASSWORD, '10.0.1.2');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.code).toBe('login_throttled');
    expect(locked.headers['retry-after']).toBe('30');
    const lockouts = await database.db
      .selectFrom('audit_log')
      .select(['object_type', 'object_id', 'details', 'actor_kind'])
      .where('action', '=', 'auth.lockout')
      .execute();
    expect(lockouts).toContainEqual({
      object_type: 'login',
      object_id: 'root',
      actor_kind: 'system',
      details: expect.objectContaining({ failures: 5 }),
    });
    now = new Date(now.getTime() + 31_000);
    expect((await login('root', 'wrong-password', '10.0.1.3')).statusCode).toBe(401);
    const longer = await login('root', ADMIN_PASSWORD, '10.0.1.4');
    expect(longer.headers['retry-after']).toBe('60');
    now = new Date(now.getTime() + 61_000);
    expect((await login('root', ADMIN_PASSWORD, '10.0.1.4')).statusCode).toBe(200);
    // A success clears the login's count: one more failure does not lock it again.
    expect((await login('root', 'wrong-password', '10.0.1.5')).statusCode).toBe(401);
    expect((await login('root', ADMIN_PASSWORD, '10.0.1.5')).statusCode).toBe(200);
  });

  it('locks an address after 5 failures whatever logins it tries; other addresses are not held', async () => {
    for (let attempt = 1; attempt <= 5; attempt++)
      expect((await login(`guess${attempt}`, 'wrong-password', '10.0.2.1')).statusCode).toBe(401);
    const locked = await login('c01.cashier', 'Cashier-pass-3', '10.0.2.1');
    expect(locked.statusCode).toBe(429);
    expect(locked.json().error.message).toMatch(/this address/);
    expect((await login('c01.cashier', 'Cashier-pass-3', '10.0.2.2')).statusCode).toBe(200);
    const rows = await database.db
      .selectFrom('login_throttle')
      .select(['throttle_key', 'failures'])
      .where('throttle_key', '=', 'address:10.0.2.1')
      .execute();
    expect(rows).toEqual([{ throttle_key: 'address:10.0.2.1', failures: 5 }]);
  });

  it('checks an unknown login against a dummy scrypt hash, as costly as a real one', async () => {
    const checked: string[] = [];
    const recording = {
      verify: async (password: string, stored: string) => {
        checked.push(stored);
        return verifyPassword(password, stored);
      },
    };
    await expect(
      logIn(
        { ...deps(), passwords: recording },
        { login: 'nobody', password: 'whatever-pass', requestIp: '10.0.3.1' },
      ),
    ).rejects.toMatchObject({ code: 'invalid_credentials' });
    expect(checked).toEqual([DUMMY_PASSWORD_HASH]);
    // Same scheme and cost parameters as a freshly hashed password.
    const params = (hash: string) => hash.split('$').slice(0, 4).join('$');
    expect(params(DUMMY_PASSWORD_HASH)).toBe(params(await hashPassword('Some-password-1')));
    expect(await verifyPassword('whatever-pass', DUMMY_PASSWORD_HASH)).toBe(false);
  });

  it('refuses a published demo password on a database that is not the demo, and accepts it on the demo', async () => {
    // An account carried over with the demo's password (e.g. a copied demo database).
    await database.db
      .insertInto('staff')
      .values({
        staff_id: 99,
        org_unit_id: 1,
        login: 'old.demo',
        name: '旧示范账号',
        roles: ['cashier'],
        password_hash: DEMO_PASSWORD_HASH,
      })
      .execute();
    const refused = await login('old.demo', 'gridcollect', '10.0.4.1');
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.code).toBe('demo_password_refused');
    await markDemoDatabase(database.db);
    expect((await login('old.demo', 'gridcollect', '10.0.4.1')).statusCode).toBe(200);
    await expect(
      initFirstAdmin(deps(), CLI_PRINCIPAL, { login: 'x.admin', name: 'x', password: 'Another-pass-99' }),
    ).rejects.toMatchObject({ code: 'already_initialised' });
  });

  it('forgets failures an hour after the last one, so guessed logins do not pile up', async () => {
    now = new Date(now.getTime() + 2 * 3_600_000);
    expect((await login('guess-later', 'wrong-password', '10.0.5.1')).statusCode).toBe(401);
    const keys = (await database.db.selectFrom('login_throttle').select('throttle_key').execute()).map(
      (row) => row.throttle_key,
    );
    expect(keys.sort()).toEqual(['address:10.0.5.1', 'login:guess-later']);
  });
});
