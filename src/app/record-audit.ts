import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { type Principal, auditChannelOf } from './principal.js';

export interface AuditEntry {
  readonly action: string;
  readonly objectType?: string;
  readonly objectId?: string;
  readonly customerId?: number;
  readonly details?: Record<string, unknown>;
  readonly requestIp?: string;
}

/** The audit columns that say who acted, where through, and (CLI) as which OS user: one rule for every writer. */
export function auditActorColumns(actor: Principal) {
  return {
    actor_kind: actor.kind,
    actor_id: actor.kind === 'staff' ? String(actor.staffId) : actor.login,
    org_unit_id: actor.orgUnitId,
    channel: auditChannelOf(actor),
    os_user: actor.osUser ?? null,
  };
}

/** Appends to the audit trail inside the caller's transaction, so the action and its record commit together. */
export async function recordAudit(executor: Kysely<DB>, actor: Principal, entry: AuditEntry): Promise<void> {
  await executor
    .insertInto('audit_log')
    .values({
      ...auditActorColumns(actor),
      action: entry.action,
      object_type: entry.objectType ?? null,
      object_id: entry.objectId ?? null,
      customer_id: entry.customerId ?? null,
      details: JSON.stringify(entry.details ?? {}),
      request_ip: entry.requestIp ?? null,
    })
    .execute();
}
