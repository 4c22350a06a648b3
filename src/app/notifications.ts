import { type Kysely, sql } from 'kysely';
import type { DB, NotificationOutboxTable } from '../db/schema.js';

/** Payment notices use the payment id; the other notices live above this. */
export const NOTIFICATION_ID_OFFSET = 1_000_000_000_000;

export type NotificationKind = NotificationOutboxTable['kind'];

/**
 * Queues a message to the customer in the caller's transaction (the outbox pattern): it exists
 * exactly when what it reports committed, once per (kind, object). Delivery is a later sender's job.
 */
export async function enqueueNotification(
  trx: Kysely<DB>,
  customerId: number,
  kind: NotificationKind,
  objectId: string,
  payload: Record<string, unknown>,
): Promise<void> {
  await sql`
    insert into notification_outbox (customer_id, notification_id, kind, object_id, payload)
    values (${customerId}, ${NOTIFICATION_ID_OFFSET} + nextval('notification_seq'), ${kind}, ${objectId}, ${JSON.stringify(payload)}::jsonb)
    on conflict (customer_id, kind, object_id) do nothing`.execute(trx);
}

export interface NotificationView {
  readonly notificationId: number;
  readonly kind: NotificationKind;
  readonly objectId: string;
  readonly payload: unknown;
  readonly createdAt: Date;
  readonly delivered: boolean;
}

/** A customer's queued messages, newest first. */
export async function listNotifications(
  db: Kysely<DB>,
  customerId: number,
  limit = 50,
): Promise<NotificationView[]> {
  const rows = await sql<{
    notification_id: number;
    kind: NotificationKind;
    object_id: string;
    payload: unknown;
    created_at: Date;
    delivered: boolean;
  }>`
    select n.notification_id, n.kind, n.object_id, n.payload, n.created_at,
      exists (select 1 from notification_attempt a where a.customer_id = n.customer_id
              and a.notification_id = n.notification_id and a.outcome = 'sent') as delivered
    from notification_outbox n where n.customer_id = ${customerId}
    order by n.notification_id desc limit ${limit}`.execute(db);
  return rows.rows.map((row) => ({
    notificationId: Number(row.notification_id),
    kind: row.kind,
    objectId: row.object_id,
    payload: row.payload,
    createdAt: row.created_at,
    delivered: row.delivered,
  }));
}
