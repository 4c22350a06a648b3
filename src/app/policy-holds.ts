import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { type LocalDate, dayNumber } from '../domain/local-date.js';
import { customerInScope } from './customer-in-scope.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';
import { isInScope } from './ledger/scope.js';
import { requireNamedRequester, requireSecondPerson } from './ledger/two-person-rule.js';

export type HoldScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'category'; readonly category: string }
  | { readonly kind: 'station'; readonly stationCode: string }
  | { readonly kind: 'customer'; readonly customerNo: string };

export interface PolicyHoldInput {
  readonly scope: HoldScope;
  readonly startsOn: LocalDate;
  readonly endsOn: LocalDate;
  readonly noLateFee: boolean;
  readonly noDisconnection: boolean;
  readonly reason: string;
  /** The policy document (文件号) the hold implements. */
  readonly source?: string;
}

export interface PolicyHoldView {
  readonly holdId: number;
  readonly scopeKind: string;
  readonly scopeValue: string;
  readonly startsOn: string;
  readonly endsOn: string;
  readonly noLateFee: boolean;
  readonly noDisconnection: boolean;
  readonly reason: string;
  readonly source: string | null;
  readonly requestedBy: number | null;
  readonly approvedBy: number | null;
  readonly approvedAt: Date | null;
}

const CATEGORIES = ['residential', 'commercial', 'large_industry', 'agriculture', 'temporary'];
/** Longest hold accepted at once (a policy period is months, not decades). */
const HOLD_DAYS_MAX = 366;

/**
 * Asks for a policy hold (欠费不停供 / 免收违约金): no late fee and/or no disconnection for every
 * customer, a category, a station or one customer over a date range. The hold does nothing until
 * a second person approves it. County-wide scopes need a county-level principal.
 * Errors: forbidden, validation_failed, not_found.
 */
export async function requestPolicyHold(
  db: Kysely<DB>,
  principal: Principal,
  input: PolicyHoldInput,
): Promise<PolicyHoldView> {
  requirePermission(principal, 'ledger.request');
  const requestedBy = requireNamedRequester(principal);
  if (input.endsOn < input.startsOn)
    throw new AppError('validation_failed', 'endsOn: must not be before startsOn');
  if (dayNumber(input.endsOn) - dayNumber(input.startsOn) >= HOLD_DAYS_MAX)
    throw new AppError('validation_failed', `endsOn: a hold covers at most ${HOLD_DAYS_MAX} days`);
  if (!input.noLateFee && !input.noDisconnection)
    throw new AppError('validation_failed', 'noLateFee/noDisconnection: a hold must suspend at least one');
  if (input.reason.trim().length < 2) throw new AppError('validation_failed', 'reason: say why');
  return inTransaction(db, async (trx) => {
    const scopeValue = await resolveScope(trx, principal, input.scope);
    const row = await trx
      .insertInto('policy_hold')
      .values({
        scope_kind: input.scope.kind,
        scope_value: scopeValue,
        starts_on: input.startsOn,
        ends_on: input.endsOn,
        no_late_fee: input.noLateFee,
        no_disconnection: input.noDisconnection,
        reason: input.reason.trim(),
        source: input.source ?? null,
        requested_by: requestedBy,
      })
      .returning('hold_id')
      .executeTakeFirstOrThrow();
    await recordAudit(trx, principal, {
      action: 'policy_hold.request',
      objectType: 'policy_hold',
      objectId: String(row.hold_id),
      customerId: input.scope.kind === 'customer' ? Number(scopeValue) : undefined,
      details: { ...input, scopeValue },
    });
    return (await listPolicyHolds(trx, principal, { holdId: Number(row.hold_id) }))[0]!;
  });
}

/**
 * Approves a hold: from now on the posting path charges no late fee for its days and recovery
 * work skips its customers. The requester cannot approve. Errors: forbidden, not_found,
 * same_person_approval, hold_already_approved.
 */
export async function approvePolicyHold(
  db: Kysely<DB>,
  principal: Principal,
  holdId: number,
): Promise<PolicyHoldView> {
  requirePermission(principal, 'ledger.approve');
  return inTransaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('policy-hold'), ${holdId}::int)`.execute(trx);
    const [hold] = await listPolicyHolds(trx, principal, { holdId });
    if (!hold) throw new AppError('not_found', `no policy hold ${holdId}`);
    if (hold.approvedBy !== null) throw new AppError('hold_already_approved', `hold ${holdId} is approved`);
    requireSecondPerson(principal, 'policy_hold', { requestedBy: hold.requestedBy });
    // The approver must see the whole scope, as the requester had to: listPolicyHolds shows a
    // station's or customer's hold only inside the approver's scope; county-wide ones need this.
    if (hold.scopeKind === 'all' || hold.scopeKind === 'category') requireCountyLevel(principal);
    await trx
      .insertInto('policy_hold_approval')
      .values({ hold_id: holdId, approved_by: principal.staffId! })
      .execute();
    await recordAudit(trx, principal, {
      action: 'policy_hold.approve',
      objectType: 'policy_hold',
      objectId: String(holdId),
      customerId: hold.scopeKind === 'customer' ? Number(hold.scopeValue) : undefined,
      details: {
        scopeKind: hold.scopeKind,
        scopeValue: hold.scopeValue,
        from: hold.startsOn,
        to: hold.endsOn,
      },
    });
    return (await listPolicyHolds(trx, principal, { holdId }))[0]!;
  });
}

/** Holds the principal may see (county-wide ones, and those inside its scope), newest first. */
export async function listPolicyHolds(
  db: Kysely<DB>,
  principal: Principal,
  filter: { readonly holdId?: number; readonly activeOn?: LocalDate } = {},
): Promise<PolicyHoldView[]> {
  const rows = await sql<{
    hold_id: number;
    scope_kind: string;
    scope_value: string;
    starts_on: string;
    ends_on: string;
    no_late_fee: boolean;
    no_disconnection: boolean;
    reason: string;
    source: string | null;
    requested_by: number | null;
    approved_by: number | null;
    approved_at: Date | null;
    path: string | null;
  }>`
    select h.*, a.approved_by, a.approved_at,
      coalesce(so.path, co.path) as path
    from policy_hold h
    left join policy_hold_approval a on a.hold_id = h.hold_id
    left join org_unit so on h.scope_kind = 'station' and so.org_unit_id::text = h.scope_value
    left join customer c on h.scope_kind = 'customer' and c.customer_id::text = h.scope_value
    left join org_unit co on co.org_unit_id = c.station_id
    where (${filter.holdId ?? null}::bigint is null or h.hold_id = ${filter.holdId ?? null}::bigint)
      and (${filter.activeOn ?? null}::date is null
           or ${filter.activeOn ?? null}::date between h.starts_on and h.ends_on)
    order by h.hold_id desc`.execute(db);
  return rows.rows
    .filter((row) => row.path === null || isInScope(principal, row.path))
    .map((row) => ({
      holdId: Number(row.hold_id),
      scopeKind: row.scope_kind,
      scopeValue: row.scope_value,
      startsOn: row.starts_on,
      endsOn: row.ends_on,
      noLateFee: row.no_late_fee,
      noDisconnection: row.no_disconnection,
      reason: row.reason,
      source: row.source,
      requestedBy: row.requested_by === null ? null : Number(row.requested_by),
      approvedBy: row.approved_by === null ? null : Number(row.approved_by),
      approvedAt: row.approved_at,
    }));
}

/**
 * Whether an approved hold stops disconnection of a customer on a day (recovery work asks this
 * before any disconnection order).
 */
export async function disconnectionHeld(db: Kysely<DB>, customerId: number, on: LocalDate): Promise<boolean> {
  const row = await sql<{ held: boolean }>`
    select exists (
      select 1 from policy_hold h join policy_hold_approval a on a.hold_id = h.hold_id
      join customer c on c.customer_id = ${customerId}
      where h.no_disconnection and ${on}::date between h.starts_on and h.ends_on
        and (h.scope_kind = 'all' or (h.scope_kind = 'category' and h.scope_value = c.category)
          or (h.scope_kind = 'station' and h.scope_value = c.station_id::text)
          or (h.scope_kind = 'customer' and h.scope_value = c.customer_id::text))) as held`.execute(db);
  return Boolean(row.rows[0]?.held);
}

function requireCountyLevel(principal: Principal): void {
  if (principal.scopePath !== '/' && principal.scopePath.split('/').filter(Boolean).length > 1)
    throw new AppError('forbidden', 'county-wide holds need a county-level staff member');
}

/** The stored scope value, checked against the principal's scope. */
async function resolveScope(trx: Kysely<DB>, principal: Principal, scope: HoldScope): Promise<string> {
  if (scope.kind === 'all' || scope.kind === 'category') {
    requireCountyLevel(principal);
    if (scope.kind === 'all') return '';
    if (!CATEGORIES.includes(scope.category))
      throw new AppError('validation_failed', `scope.category: one of ${CATEGORIES.join(', ')}`);
    return scope.category;
  }
  if (scope.kind === 'station') {
    const station = await trx
      .selectFrom('org_unit')
      .select(['org_unit_id', 'path'])
      .where('kind', '=', 'station')
      .where('code', '=', scope.stationCode)
      .executeTakeFirst();
    if (!station || !isInScope(principal, station.path))
      throw new AppError('not_found', `station ${scope.stationCode} not found`);
    return String(station.org_unit_id);
  }
  return String((await customerInScope(trx, principal, scope.customerNo)).customerId);
}
