import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Principal } from './principal.js';

export interface AuditEntry {
  readonly action: string;
  readonly objectType?: string;
  readonly objectId?: string;
  readonly customerId?: number;
  readonly details?: Record<string, unknown>;
  readonly requestIp?: string;
}

/** Appends to the audit trail inside the caller's transaction, so the action and its record commit together. */
export async function recordAudit(executor: Kysely<DB>, actor: Principal, entry: AuditEntry): Promise<void> {
  await executor
    .insertInto('audit_log')
    .values({
      actor_kind: actor.kind,
      actor_id: actor.kind === 'staff' ? String(actor.staffId) : actor.login,
      action: entry.action,
      object_type: entry.objectType ?? null,
      object_id: entry.objectId ?? null,
      customer_id: entry.customerId ?? null,
      org_unit_id: actor.orgUnitId,
      details: JSON.stringify(entry.details ?? {}),
      request_ip: entry.requestIp ?? null,
    })
    .execute();
}
