import type { Kysely } from 'kysely';
import type { DB } from '../adapters/db/schema.js';
import { AppError } from './errors.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

export interface AddChannelInput {
  readonly channelCode: string;
  readonly secret: string;
  readonly name?: string;
  readonly kind?: 'bank_realtime' | 'bank_batch' | 'payment_platform' | 'post_office';
}

/**
 * Registers a real-time collection channel, or re-enables it with a new secret. The secret is
 * stored encrypted. Errors: forbidden, validation_failed.
 */
export async function addChannel(
  db: Kysely<DB>,
  principal: Principal,
  encrypt: (plain: string) => string,
  input: AddChannelInput,
  now: Date,
): Promise<{ channelCode: string; created: boolean }> {
  requirePermission(principal, 'channel.manage');
  if (!/^[A-Za-z0-9_-]{2,32}$/.test(input.channelCode)) {
    throw new AppError('validation_failed', 'id: 2–32 letters, digits, "_" or "-"');
  }
  if (input.secret.length < 16) throw new AppError('validation_failed', 'secret: at least 16 characters');
  return db.transaction().execute(async (trx) => {
    const existing = await trx
      .selectFrom('channel')
      .select('channel_code')
      .where('channel_code', '=', input.channelCode)
      .executeTakeFirst();
    const secretEncrypted = encrypt(input.secret);
    if (existing) {
      await trx
        .updateTable('channel')
        .set({
          enabled: true,
          secret_encrypted: secretEncrypted,
          updated_at: now,
          ...(input.name ? { name: input.name } : {}),
        })
        .where('channel_code', '=', input.channelCode)
        .execute();
    } else {
      await trx
        .insertInto('channel')
        .values({
          channel_code: input.channelCode,
          name: input.name ?? input.channelCode,
          kind: input.kind ?? 'bank_realtime',
          enabled: true,
          secret_encrypted: secretEncrypted,
          created_at: now,
          updated_at: now,
        })
        .execute();
    }
    await recordAudit(trx, principal, {
      action: existing ? 'channel.reenable' : 'channel.add',
      objectType: 'channel',
      objectId: input.channelCode,
      details: { name: input.name ?? null, secretRotated: true },
    });
    return { channelCode: input.channelCode, created: !existing };
  });
}
