import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { isStaffRole } from '../domain/staff-role.js';
import { AppError } from './errors.js';
import type { Clock, PasswordVerifier, TokenGenerator } from './ports.js';
import type { Principal } from './principal.js';
import { recordAudit } from './record-audit.js';

export interface LogInDeps {
  readonly db: Kysely<DB>;
  readonly clock: Clock;
  readonly tokens: TokenGenerator;
  readonly passwords: PasswordVerifier;
  readonly sessionHours: number;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Starts a staff session and returns its bearer token (stored only as a hash).
 * Errors: invalid_credentials.
 */
export async function logIn(
  deps: LogInDeps,
  input: { readonly login: string; readonly password: string; readonly requestIp?: string },
): Promise<{ token: string; expiresAt: Date; principal: Principal }> {
  const staff = await deps.db
    .selectFrom('staff')
    .selectAll()
    .where('login', '=', input.login)
    .executeTakeFirst();
  if (!staff?.active || !(await deps.passwords.verify(input.password, staff.password_hash))) {
    throw new AppError('invalid_credentials', 'login or password is wrong');
  }
  const principal = await loadPrincipal(deps.db, staff.staff_id);
  const token = deps.tokens.newToken();
  const expiresAt = new Date(deps.clock.now().getTime() + deps.sessionHours * 3_600_000);
  await deps.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('staff_session')
      .values({
        token_hash: hashToken(token),
        staff_id: staff.staff_id,
        expires_at: expiresAt,
        created_at: deps.clock.now(),
      })
      .execute();
    await recordAudit(trx, principal, {
      action: 'auth.login',
      objectType: 'staff',
      objectId: staff.login,
      ...(input.requestIp ? { requestIp: input.requestIp } : {}),
    });
  });
  return { token, expiresAt, principal };
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

/** Resolves a bearer token to its principal. Errors: unauthenticated. */
export async function authenticate(deps: Pick<LogInDeps, 'db' | 'clock'>, token: string): Promise<Principal> {
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
  return loadPrincipal(deps.db, session.staff_id);
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

async function loadPrincipal(db: Kysely<DB>, staffId: number): Promise<Principal> {
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
  // Teams see their station: a collector in a station's field team answers for station customers.
  const segments = row.path.split('/').filter(Boolean);
  const scopePath = row.kind === 'team' ? `/${segments.slice(0, -1).join('/')}/` : row.path;
  return {
    kind: 'staff',
    staffId: row.staff_id,
    login: row.login,
    name: row.name,
    roles: row.roles.filter(isStaffRole),
    orgUnitId: row.org_unit_id,
    scopePath,
  };
}
