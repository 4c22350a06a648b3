import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { PASSWORD_PROBLEM_TEXT, passwordProblem } from '../domain/password-policy.js';
import { type StaffRole, STAFF_ROLES, isStaffRole } from '../domain/staff-role.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { isDemoDatabase } from './installation-settings.js';
import { inScopeSql, isInScope } from './ledger/scope.js';
import { hashToken, throttleKeys } from './log-in.js';
import type { Clock, Passwords } from './ports.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

export interface StaffAccountDeps {
  readonly db: Kysely<DB>;
  readonly clock: Clock;
  readonly passwords: Passwords;
}

export interface StaffListRow {
  readonly staffId: number;
  readonly login: string;
  readonly name: string;
  readonly roles: readonly string[];
  readonly orgCode: string;
  readonly orgName: string;
  readonly active: boolean;
  readonly createdAt: Date;
  readonly passwordChangedAt: Date | null;
}

const LOGIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/;

function checkLogin(login: string): void {
  if (!LOGIN_PATTERN.test(login))
    throw new AppError(
      'validation_failed',
      'login: 2–64 letters, digits, ".", "_" or "-" (登录名格式不正确)',
    );
}

function checkName(name: string): void {
  if (name.trim().length === 0 || name.length > 64)
    throw new AppError('validation_failed', 'name: 1–64 characters (姓名为 1–64 个字符)');
}

function checkRoles(roles: readonly string[]): StaffRole[] {
  if (roles.length === 0) throw new AppError('validation_failed', 'roles: at least one role');
  for (const role of roles) {
    if (!isStaffRole(role))
      throw new AppError(
        'validation_failed',
        `roles: unknown role ${role} (one of ${STAFF_ROLES.join(', ')})`,
      );
  }
  return [...new Set(roles)] as StaffRole[];
}

/** The policy of every new password (one rule, here): refused with password_rejected. */
export function checkNewPassword(login: string, password: string): void {
  const problem = passwordProblem(login, password);
  if (problem) throw new AppError('password_rejected', PASSWORD_PROBLEM_TEXT[problem], { problem });
}

/** A staff member the principal may manage: inside its org subtree. Errors: not_found, out_of_scope. */
async function managedStaff(db: Kysely<DB>, principal: Principal, login: string) {
  requirePermission(principal, 'staff.manage');
  const row = await db
    .selectFrom('staff')
    .innerJoin('org_unit', 'org_unit.org_unit_id', 'staff.org_unit_id')
    .select(['staff.staff_id', 'staff.login', 'staff.active', 'org_unit.path'])
    .where('staff.login', '=', login)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `staff: no staff member ${login}`);
  if (!isInScope(principal, row.path))
    throw new AppError('out_of_scope', `staff: ${login} belongs to an org unit outside your scope`);
  return row;
}

async function revokeSessions(
  db: Kysely<DB>,
  staffId: number,
  now: Date,
  keepTokenHash: string | null = null,
): Promise<number> {
  let query = db
    .updateTable('staff_session')
    .set({ revoked_at: now })
    .where('staff_id', '=', staffId)
    .where('revoked_at', 'is', null);
  if (keepTokenHash) query = query.where('token_hash', '<>', keepTokenHash);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Adds a staff member in an org unit of the administrator's subtree, with a first password that
 * meets the policy (hashed with its own salt). Errors: forbidden, validation_failed, not_found,
 * out_of_scope, login_taken, password_rejected.
 */
export async function addStaff(
  deps: StaffAccountDeps,
  principal: Principal,
  input: {
    readonly login: string;
    readonly name: string;
    readonly roles: readonly string[];
    readonly orgCode: string;
    readonly phone?: string | undefined;
    readonly password: string;
  },
): Promise<{ staffId: number; login: string }> {
  requirePermission(principal, 'staff.manage');
  checkLogin(input.login);
  checkName(input.name);
  const roles = checkRoles(input.roles);
  checkNewPassword(input.login, input.password);
  const org = await deps.db
    .selectFrom('org_unit')
    .select(['org_unit_id', 'path'])
    .where('code', '=', input.orgCode)
    .executeTakeFirst();
  if (!org) throw new AppError('not_found', `org: no org unit with code ${input.orgCode}`);
  if (!isInScope(principal, org.path))
    throw new AppError('out_of_scope', `org: ${input.orgCode} is outside your scope`);
  const passwordHash = await deps.passwords.hash(input.password);
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    const taken = await trx
      .selectFrom('staff')
      .select('staff_id')
      .where('login', '=', input.login)
      .executeTakeFirst();
    if (taken) throw new AppError('login_taken', `login: ${input.login} is already taken`);
    const staffId = await insertStaff(trx, {
      orgUnitId: org.org_unit_id,
      login: input.login,
      name: input.name.trim(),
      roles,
      phone: input.phone ?? null,
      passwordHash,
      now,
    });
    await recordAudit(trx, principal, {
      action: 'staff.add',
      objectType: 'staff',
      objectId: input.login,
      details: { roles, org: input.orgCode },
    });
    return { staffId, login: input.login };
  });
}

async function insertStaff(
  trx: Kysely<DB>,
  row: {
    orgUnitId: number;
    login: string;
    name: string;
    roles: readonly StaffRole[];
    phone: string | null;
    passwordHash: string;
    now: Date;
  },
): Promise<number> {
  const inserted = await trx
    .insertInto('staff')
    .values({
      staff_id: sql<number>`nextval('staff_id_seq')`,
      org_unit_id: row.orgUnitId,
      login: row.login,
      name: row.name,
      roles: [...row.roles],
      phone: row.phone,
      password_hash: row.passwordHash,
      created_at: row.now,
      password_changed_at: row.now,
    })
    .returning('staff_id')
    .executeTakeFirstOrThrow();
  return Number(inserted.staff_id);
}

/** Staff of the administrator's org subtree, by login. Errors: forbidden. */
export async function listStaff(db: Kysely<DB>, principal: Principal): Promise<StaffListRow[]> {
  requirePermission(principal, 'staff.manage');
  const rows = await db
    .selectFrom('staff')
    .innerJoin('org_unit', 'org_unit.org_unit_id', 'staff.org_unit_id')
    .select([
      'staff.staff_id',
      'staff.login',
      'staff.name',
      'staff.roles',
      'staff.active',
      'staff.created_at',
      'staff.password_changed_at',
      'org_unit.code',
      'org_unit.name as org_name',
    ])
    .where(inScopeSql(principal, 'org_unit.path'))
    .orderBy('staff.login')
    .execute();
  return rows.map((row) => ({
    staffId: row.staff_id,
    login: row.login,
    name: row.name,
    roles: row.roles,
    orgCode: row.code,
    orgName: row.org_name,
    active: row.active,
    createdAt: row.created_at,
    passwordChangedAt: row.password_changed_at,
  }));
}

/**
 * Disables (or enables again) a staff member; disabling ends every session of theirs at once.
 * Nobody disables themselves. Errors: forbidden, not_found, out_of_scope, validation_failed.
 */
export async function setStaffActive(
  deps: Pick<StaffAccountDeps, 'db' | 'clock'>,
  principal: Principal,
  login: string,
  active: boolean,
): Promise<{ login: string; active: boolean; sessionsEnded: number }> {
  const staff = await managedStaff(deps.db, principal, login);
  if (!active && staff.staff_id === principal.staffId)
    throw new AppError(
      'validation_failed',
      'login: you cannot disable your own account (不能停用自己的账号)',
    );
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    await trx.updateTable('staff').set({ active }).where('staff_id', '=', staff.staff_id).execute();
    const sessionsEnded = active ? 0 : await revokeSessions(trx, staff.staff_id, now);
    await recordAudit(trx, principal, {
      action: active ? 'staff.enable' : 'staff.disable',
      objectType: 'staff',
      objectId: login,
      details: { sessionsEnded },
    });
    return { login, active, sessionsEnded };
  });
}

/**
 * An administrator sets a new password for a staff member (who forgot theirs); their sessions end
 * and their login's failed-login lock is cleared. Errors: forbidden, not_found, out_of_scope,
 * password_rejected.
 */
export async function resetStaffPassword(
  deps: StaffAccountDeps,
  principal: Principal,
  login: string,
  password: string,
): Promise<{ login: string; sessionsEnded: number }> {
  const staff = await managedStaff(deps.db, principal, login);
  checkNewPassword(login, password);
  const passwordHash = await deps.passwords.hash(password);
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    await trx
      .updateTable('staff')
      .set({ password_hash: passwordHash, password_changed_at: now })
      .where('staff_id', '=', staff.staff_id)
      .execute();
    const sessionsEnded = await revokeSessions(trx, staff.staff_id, now);
    await trx.deleteFrom('login_throttle').where('throttle_key', '=', throttleKeys(login, '')[0]).execute();
    await recordAudit(trx, principal, {
      action: 'staff.reset_password',
      objectType: 'staff',
      objectId: login,
      details: { sessionsEnded },
    });
    return { login, sessionsEnded };
  });
}

/**
 * A staff member changes their own password: the current one is required, the new one meets the
 * policy, and every other session of theirs ends (the one in use, `currentToken`, stays).
 * Errors: forbidden (not a staff member), invalid_credentials, password_rejected.
 */
export async function changeOwnPassword(
  deps: StaffAccountDeps,
  principal: Principal,
  input: {
    readonly oldPassword: string;
    readonly newPassword: string;
    readonly currentToken?: string | undefined;
  },
): Promise<{ login: string; sessionsEnded: number }> {
  if (principal.kind !== 'staff' || principal.staffId === null)
    throw new AppError('forbidden', 'only a logged-in staff member changes their own password');
  const staffId = principal.staffId;
  const staff = await deps.db
    .selectFrom('staff')
    .select(['login', 'password_hash'])
    .where('staff_id', '=', staffId)
    .executeTakeFirstOrThrow();
  if (!(await deps.passwords.verify(input.oldPassword, staff.password_hash)))
    throw new AppError('invalid_credentials', 'the current password is wrong (当前密码不正确)');
  checkNewPassword(staff.login, input.newPassword);
  if (input.newPassword === input.oldPassword)
    throw new AppError(
      'password_rejected',
      'password: the new password equals the current one (新密码与当前密码相同)',
      {
        problem: 'unchanged',
      },
    );
  const passwordHash = await deps.passwords.hash(input.newPassword);
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    await trx
      .updateTable('staff')
      .set({ password_hash: passwordHash, password_changed_at: now })
      .where('staff_id', '=', staffId)
      .execute();
    const sessionsEnded = await revokeSessions(
      trx,
      staffId,
      now,
      input.currentToken ? hashToken(input.currentToken) : null,
    );
    await recordAudit(trx, principal, {
      action: 'staff.change_password',
      objectType: 'staff',
      objectId: staff.login,
      details: { sessionsEnded },
    });
    return { login: staff.login, sessionsEnded };
  });
}

/**
 * The first administrator of a real installation (`gridcollect init --admin`): only while the
 * database has no staff and is not the demo. The county org unit is created from `county` when the
 * database has none yet (a registry import later matches it by code).
 * Errors: already_initialised, validation_failed, password_rejected.
 */
export async function initFirstAdmin(
  deps: StaffAccountDeps,
  actor: Principal,
  input: {
    readonly login: string;
    readonly name: string;
    readonly password: string;
    readonly county?:
      | { readonly code: string; readonly name: string; readonly nameEn?: string | undefined }
      | undefined;
  },
): Promise<{ staffId: number; login: string; orgCode: string; countyCreated: boolean }> {
  checkLogin(input.login);
  checkName(input.name);
  checkNewPassword(input.login, input.password);
  if (input.county && !/^[A-Za-z0-9_-]{1,32}$/.test(input.county.code))
    throw new AppError('validation_failed', 'county: code of 1–32 letters, digits, "_" or "-"');
  const passwordHash = await deps.passwords.hash(input.password);
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    // Two `init` at once: the second waits here and then sees the first one's administrator.
    await sql`lock table staff in share row exclusive mode`.execute(trx);
    if (await isDemoDatabase(trx))
      throw new AppError(
        'already_initialised',
        'this database is the demo county; init is for a real installation',
      );
    const existing = await trx.selectFrom('staff').select('login').limit(1).executeTakeFirst();
    if (existing)
      throw new AppError(
        'already_initialised',
        'this database already has staff; an administrator adds more with gridcollect staff add (数据库已有员工账号)',
      );
    let county = await trx
      .selectFrom('org_unit')
      .select(['org_unit_id', 'code'])
      .where('kind', '=', 'county')
      .where('parent_id', 'is', null)
      .executeTakeFirst();
    const countyCreated = !county;
    if (!county) {
      if (!input.county)
        throw new AppError(
          'validation_failed',
          'county: the database has no county yet; give --county CODE and --county-name NAME',
        );
      checkName(input.county.name);
      const orgUnitId = 1;
      await trx
        .insertInto('org_unit')
        .values({
          org_unit_id: orgUnitId,
          parent_id: null,
          kind: 'county',
          code: input.county.code,
          name: input.county.name,
          name_en: input.county.nameEn ?? input.county.name,
          path: `/${orgUnitId}/`,
        })
        .execute();
      county = { org_unit_id: orgUnitId, code: input.county.code };
    }
    const staffId = await insertStaff(trx, {
      orgUnitId: county.org_unit_id,
      login: input.login,
      name: input.name.trim(),
      roles: ['admin'],
      phone: null,
      passwordHash,
      now,
    });
    await recordAudit(trx, actor, {
      action: 'staff.init_admin',
      objectType: 'staff',
      objectId: input.login,
      details: { org: county.code, countyCreated },
    });
    return { staffId, login: input.login, orgCode: county.code, countyCreated };
  });
}
