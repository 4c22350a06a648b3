import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { FAILURE_MEMORY_MS, isKnownDemoPassword, lockoutMs } from '../domain/password-policy.js';
import { isStaffRole } from '../domain/staff-role.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { isDemoDatabase } from './installation-settings.js';
import type { Clock, PasswordVerifier, TokenGenerator } from './ports.js';
import { AUTH_SYSTEM_PRINCIPAL, type Principal } from './principal.js';
import { recordAudit } from './record-audit.js';

export interface LogInDeps {
  readonly db: Kysely<DB>;
  readonly clock: Clock;
  readonly tokens: TokenGenerator;
  readonly passwords: PasswordVerifier;
  readonly sessionHours: number;
}

/** Where a session is used from: the API (web UI, scripts) or the CLI of an OS user. */
export type SessionChannel = 'api' | 'cli';

/**
 * The scrypt hash of a random secret nobody knows, with the parameters of real hashes: an unknown
 * or disabled login is checked against it, so it costs the same time as a wrong password.
 */
export const DUMMY_PASSWORD_HASH =
  'scrypt$16384$8$1$B6KEBTWeGLu0sZ7rDleZ/Q==$g2xSZjr6BAjW5K5Q8vx71BYvkV0JrCvlZ9UhlntRAJw=';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The throttle keys of one attempt: its login, and its client address (or the CLI's OS user). */
export function throttleKeys(login: string, address: string): [string, string] {
  return [`login:${login}`, `address:${address}`];
}

export interface LogInInput {
  readonly login: string;
  readonly password: string;
  /** The client address (API) — throttled like the login. */
  readonly requestIp?: string | undefined;
  readonly channel?: SessionChannel | undefined;
  /** For the CLI: the OS user the session is kept for (also its throttle address). */
  readonly osUser?: string | undefined;
}

/**
 * Starts a staff session and returns its bearer token (stored only as a hash).
 * Five failures of a login, or from an address, lock it for 30 s, doubling with each further
 * failure (up to an hour); the lock is kept in the database and written to the audit trail.
 * On a database that is not the demo, a published demo password is refused even when it matches.
 * Errors: invalid_credentials, login_throttled, demo_password_refused.
 */
export async function logIn(
  deps: LogInDeps,
  input: LogInInput,
): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const channel = input.channel ?? 'api';
  const address = input.requestIp ?? `cli:${input.osUser ?? 'unknown'}`;
  const keys = throttleKeys(input.login, address);
  const now = deps.clock.now();
  await refuseWhileLocked(deps.db, keys, now);

  const staff = await deps.db
    .selectFrom('staff')
    .select(['staff_id', 'login', 'active', 'password_hash'])
    .where('login', '=', input.login)
    .executeTakeFirst();
  // Always one scrypt verification: an unknown login costs what a wrong password costs.
  const matches = await deps.passwords.verify(input.password, staff?.password_hash ?? DUMMY_PASSWORD_HASH);
  if (!staff?.active || !matches) {
    await recordFailure(deps.db, keys, now, input.login, address);
    throw new AppError('invalid_credentials', 'login or password is wrong');
  }
  if (isKnownDemoPassword(input.password) && !(await isDemoDatabase(deps.db))) {
    await inTransaction(deps.db, (trx) =>
      recordAudit(trx, AUTH_SYSTEM_PRINCIPAL, {
        action: 'auth.demo_password_refused',
        objectType: 'staff',
        objectId: staff.login,
        ...(input.requestIp ? { requestIp: input.requestIp } : {}),
      }),
    );
    throw new AppError(
      'demo_password_refused',
      `${staff.login} still has a published demo password, which this installation refuses; an administrator sets a new one (gridcollect staff reset-password)`,
    );
  }
  const principal = {
    ...(await loadPrincipal(deps.db, staff.staff_id)),
    channel,
    ...(input.osUser ? { osUser: input.osUser } : {}),
  } satisfies Principal;
  const token = deps.tokens.newToken();
  const expiresAt = new Date(now.getTime() + deps.sessionHours * 3_600_000);
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('staff_session')
      .values({
        token_hash: hashToken(token),
        staff_id: staff.staff_id,
        expires_at: expiresAt,
        created_at: now,
        channel,
        os_user: input.osUser ?? null,
      })
      .execute();
    // A success clears the login's failures; the address's are forgotten only with time.
    await trx.deleteFrom('login_throttle').where('throttle_key', '=', keys[0]).execute();
    await recordAudit(trx, principal, {
      action: 'auth.login',
      objectType: 'staff',
      objectId: staff.login,
      ...(input.requestIp ? { requestIp: input.requestIp } : {}),
    });
  });
  return { token, expiresAt, principal };
}

async function refuseWhileLocked(db: Kysely<DB>, keys: readonly string[], now: Date): Promise<void> {
  const locked = await db
    .selectFrom('login_throttle')
    .select(['throttle_key', 'locked_until'])
    .where('throttle_key', 'in', keys)
    .where('locked_until', '>', now)
    .orderBy('locked_until', 'desc')
    .executeTakeFirst();
  if (!locked?.locked_until) return;
  const retryAfterSeconds = Math.ceil((locked.locked_until.getTime() - now.getTime()) / 1000);
  const what = locked.throttle_key.startsWith('login:') ? 'this login' : 'this address';
  throw new AppError(
    'login_throttled',
    `too many failed logins for ${what}; try again in ${retryAfterSeconds} s (登录失败次数过多，请 ${retryAfterSeconds} 秒后再试)`,
    { retryAfterSeconds },
  );
}

/** Counts a failure on each key; the fifth and later start a lock, written to the audit trail. */
async function recordFailure(
  db: Kysely<DB>,
  keys: readonly string[],
  now: Date,
  login: string,
  address: string,
): Promise<void> {
  const forgetBefore = new Date(now.getTime() - FAILURE_MEMORY_MS);
  await inTransaction(db, async (trx) => {
    // Rows of keys whose failures are forgotten and whose lock has passed go, so guessed logins
    // do not pile up.
    await trx
      .deleteFrom('login_throttle')
      .where('last_failure_at', '<', forgetBefore)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)]))
      .execute();
    for (const key of keys) {
      const row = await trx
        .insertInto('login_throttle')
        .values({ throttle_key: key, failures: 1, last_failure_at: now, locked_until: null })
        .onConflict((conflict) =>
          conflict.column('throttle_key').doUpdateSet({
            failures: sql<number>`case when login_throttle.last_failure_at < ${forgetBefore} then 1 else login_throttle.failures + 1 end`,
            last_failure_at: now,
          }),
        )
        .returning('failures')
        .executeTakeFirstOrThrow();
      const delay = lockoutMs(row.failures);
      if (delay === 0) continue;
      const lockedUntil = new Date(now.getTime() + delay);
      await trx
        .updateTable('login_throttle')
        .set({ locked_until: lockedUntil })
        .where('throttle_key', '=', key)
        .execute();
      await recordAudit(trx, AUTH_SYSTEM_PRINCIPAL, {
        action: 'auth.lockout',
        objectType: key.startsWith('login:') ? 'login' : 'address',
        objectId: key.slice(key.indexOf(':') + 1),
        details: { failures: row.failures, lockedUntil: lockedUntil.toISOString(), login, address },
      });
    }
  });
}

/** Ends a session. */
export async function logOut(
  deps: Pick<LogInDeps, 'db' | 'clock'>,
  token: string,
  principal: Principal,
): Promise<void> {
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('staff_session')
      .set({ revoked_at: deps.clock.now() })
      .where('token_hash', '=', hashToken(token))
      .execute();
    await recordAudit(trx, principal, {
      action: 'auth.logout',
      objectType: 'staff',
      objectId: principal.login,
    });
  });
}

/**
 * Resolves a bearer token to its principal, acting through `channel` (the API by default; the
 * CLI passes its own, with the OS user). Errors: unauthenticated.
 */
export async function authenticate(
  deps: Pick<LogInDeps, 'db' | 'clock'>,
  token: string,
  via: { readonly channel: SessionChannel; readonly osUser?: string | undefined } = { channel: 'api' },
): Promise<Principal> {
  const session = await deps.db
    .selectFrom('staff_session')
    .innerJoin('staff', 'staff.staff_id', 'staff_session.staff_id')
    .select([
      'staff_session.staff_id',
      'staff_session.expires_at',
      'staff_session.revoked_at',
      'staff.active',
    ])
    .where('token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (
    !session ||
    session.revoked_at ||
    !session.active ||
    session.expires_at.getTime() <= deps.clock.now().getTime()
  ) {
    throw new AppError('unauthenticated', 'the session is missing, expired or revoked; log in again');
  }
  return {
    ...(await loadPrincipal(deps.db, session.staff_id)),
    channel: via.channel,
    ...(via.osUser ? { osUser: via.osUser } : {}),
  };
}

/** The principal of a staff member by login (the CLI acting for named staff). Errors: not_found. */
export async function principalForLogin(db: Kysely<DB>, login: string): Promise<Principal> {
  const staff = await db
    .selectFrom('staff')
    .select(['staff_id', 'active'])
    .where('login', '=', login)
    .executeTakeFirst();
  if (!staff?.active) throw new AppError('not_found', `no active staff member ${login}`);
  return loadPrincipal(db, staff.staff_id);
}

export async function loadPrincipal(db: Kysely<DB>, staffId: number): Promise<Principal> {
  const row = await db
    .selectFrom('staff')
    .innerJoin('org_unit', 'org_unit.org_unit_id', 'staff.org_unit_id')
    .select([
      'staff.staff_id',
      'staff.login',
      'staff.name',
      'staff.roles',
      'staff.org_unit_id',
      'org_unit.kind',
      'org_unit.path',
    ])
    .where('staff.staff_id', '=', staffId)
    .executeTakeFirstOrThrow();
  return {
    kind: 'staff',
    staffId: row.staff_id,
    login: row.login,
    name: row.name,
    roles: row.roles.filter(isStaffRole),
    orgUnitId: row.org_unit_id,
    scopePath: scopePathOf(row.kind, row.path),
  };
}

/** Teams see their station: a collector in a station's field team answers for station customers. */
export function scopePathOf(kind: 'county' | 'station' | 'team', path: string): string {
  const segments = path.split('/').filter(Boolean);
  return kind === 'team' ? `/${segments.slice(0, -1).join('/')}/` : path;
}
