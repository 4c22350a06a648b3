import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Principal, requirePermission } from '../principal.js';
import { inScopeSql } from '../ledger/scope.js';

export interface AuditRecord {
  readonly auditId: number;
  readonly at: Date;
  readonly actorKind: string;
  readonly actorId: string;
  readonly action: string;
  readonly objectType: string | null;
  readonly objectId: string | null;
  readonly details: unknown;
  /** Where the action came in (cli, api, channel, job); null on rows older than the column. */
  readonly channel: string | null;
  /** For the CLI: the OS user who ran the command. */
  readonly osUser: string | null;
}

/** The latest audit entries of actors within the principal's scope (CLI actions count as county level). Errors: forbidden. */
export async function listAuditLog(
  db: Kysely<DB>,
  principal: Principal,
  limit: number,
): Promise<AuditRecord[]> {
  requirePermission(principal, 'audit.read');
  const rows = await db
    .selectFrom('audit_log')
    .leftJoin('org_unit', 'org_unit.org_unit_id', 'audit_log.org_unit_id')
    .select([
      'audit_id',
      'at',
      'actor_kind',
      'actor_id',
      'action',
      'object_type',
      'object_id',
      'details',
      'channel',
      'os_user',
    ])
    .where(inScopeSql(principal, 'org_unit.path'))
    .orderBy('audit_id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    auditId: row.audit_id,
    at: row.at,
    actorKind: row.actor_kind,
    actorId: row.actor_id,
    action: row.action,
    objectType: row.object_type,
    objectId: row.object_id,
    details: row.details,
    channel: row.channel,
    osUser: row.os_user,
  }));
}
