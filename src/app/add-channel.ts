import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { parseDecimal } from '../domain/decimal.js';
import { AppError } from './errors.js';
import { inTransaction } from './in-transaction.js';
import type { Encrypt } from './ports.js';
import { channelSecretField } from './sealed-fields.js';
import { type Principal, requirePermission } from './principal.js';
import { recordAudit } from './record-audit.js';

export type ChannelKind = 'bank_realtime' | 'bank_batch' | 'payment_platform' | 'post_office';
export const CHANNEL_KINDS: readonly ChannelKind[] = [
  'bank_realtime',
  'bank_batch',
  'payment_platform',
  'post_office',
];

export interface AddChannelInput {
  readonly channelCode: string;
  /** Required for real-time kinds (request signing); a batch-only bank may have none. */
  readonly secret?: string | undefined;
  readonly name?: string | undefined;
  readonly kind?: ChannelKind | undefined;
  readonly fileEncoding?: 'utf-8' | 'gbk' | undefined;
  readonly feePerTxnFen?: number | undefined;
  /** Exact decimal share of the amount, e.g. "0.001". */
  readonly feeRate?: string | undefined;
  readonly rateLimitPerSecond?: number | undefined;
  readonly withholdingRetryRounds?: number | undefined;
  /** Business days open to a payment's paidAt, today included (default 2: today and yesterday). */
  readonly paidAtWindowDays?: number | undefined;
  /** The largest amount of one payment in fen (default 100,000,000: 1,000,000.00 yuan). */
  readonly maxPaymentFen?: number | undefined;
}

/** The bounds of a channel's paidAt window and per-payment maximum (as the migration checks them). */
export const PAID_AT_WINDOW_DAYS = { min: 1, max: 31 } as const;
export const MAX_PAYMENT_FEN = { min: 1, max: 99_999_999_999_999 } as const;

function checkSecret(secret: string): void {
  if (secret.length < 16 || secret.length > 256)
    throw new AppError('validation_failed', 'secret: 16 to 256 characters');
}

/**
 * Registers a collection channel, or re-enables it with a new secret (which replaces the old
 * one at once; use rotateChannelSecret for an overlap window). Secrets are stored encrypted.
 * Errors: forbidden, validation_failed.
 */
export async function addChannel(
  db: Kysely<DB>,
  principal: Principal,
  encrypt: Encrypt,
  input: AddChannelInput,
  now: Date,
): Promise<{ channelCode: string; created: boolean }> {
  requirePermission(principal, 'channel.manage');
  if (!/^[A-Za-z0-9_-]{2,32}$/.test(input.channelCode)) {
    throw new AppError('validation_failed', 'id: 2–32 letters, digits, "_" or "-"');
  }
  const kind = input.kind ?? 'bank_realtime';
  if (!CHANNEL_KINDS.includes(kind))
    throw new AppError('validation_failed', `kind: one of ${CHANNEL_KINDS.join(', ')}`);
  if (input.secret !== undefined) checkSecret(input.secret);
  else if (kind !== 'bank_batch')
    throw new AppError('validation_failed', 'secret: required for a real-time channel');
  if (input.feeRate !== undefined) {
    const rate = parseDecimal(input.feeRate, 6);
    if (!rate || rate.isNegative() || rate.greaterThanOrEqualTo(1))
      throw new AppError('validation_failed', 'feeRate: a decimal from 0 to below 1 with at most 6 places');
  }
  for (const [field, value] of [
    ['feePerTxnFen', input.feePerTxnFen],
    ['rateLimitPerSecond', input.rateLimitPerSecond],
    ['withholdingRetryRounds', input.withholdingRetryRounds],
  ] as const) {
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
      throw new AppError('validation_failed', `${field}: a whole number ≥ 0`);
  }
  const windowDays = input.paidAtWindowDays;
  if (
    windowDays !== undefined &&
    (!Number.isSafeInteger(windowDays) ||
      windowDays < PAID_AT_WINDOW_DAYS.min ||
      windowDays > PAID_AT_WINDOW_DAYS.max)
  )
    throw new AppError(
      'validation_failed',
      `paidAtWindowDays: a whole number of business days from ${PAID_AT_WINDOW_DAYS.min} to ${PAID_AT_WINDOW_DAYS.max}`,
    );
  const maxFen = input.maxPaymentFen;
  if (
    maxFen !== undefined &&
    (!Number.isSafeInteger(maxFen) || maxFen < MAX_PAYMENT_FEN.min || maxFen > MAX_PAYMENT_FEN.max)
  )
    throw new AppError('validation_failed', 'maxPaymentFen: from 0.01 to 999999999999.99 yuan');
  const terms = {
    ...(input.fileEncoding ? { file_encoding: input.fileEncoding } : {}),
    ...(input.feePerTxnFen !== undefined ? { fee_per_txn_fen: input.feePerTxnFen } : {}),
    ...(input.feeRate !== undefined ? { fee_rate: input.feeRate } : {}),
    ...(input.rateLimitPerSecond ? { rate_limit_per_second: input.rateLimitPerSecond } : {}),
    ...(input.withholdingRetryRounds !== undefined
      ? { withholding_retry_rounds: input.withholdingRetryRounds }
      : {}),
    ...(windowDays !== undefined ? { paid_at_window_days: windowDays } : {}),
    ...(maxFen !== undefined ? { max_payment_fen: maxFen } : {}),
  };
  return inTransaction(db, async (trx) => {
    const existing = await trx
      .selectFrom('channel')
      .select('channel_code')
      .where('channel_code', '=', input.channelCode)
      .executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('channel')
        .set({ enabled: true, updated_at: now, ...(input.name ? { name: input.name } : {}), ...terms })
        .where('channel_code', '=', input.channelCode)
        .execute();
    } else {
      await trx
        .insertInto('channel')
        .values({
          channel_code: input.channelCode,
          name: input.name ?? input.channelCode,
          kind,
          enabled: true,
          secret_encrypted: null,
          created_at: now,
          updated_at: now,
          ...terms,
        })
        .execute();
    }
    if (input.secret !== undefined)
      await storeSecret(trx, input.channelCode, encrypt, input.secret, now, now);
    await recordAudit(trx, principal, {
      action: existing ? 'channel.reenable' : 'channel.add',
      objectType: 'channel',
      objectId: input.channelCode,
      details: { name: input.name ?? null, kind, secretReplaced: input.secret !== undefined, ...terms },
    });
    return { channelCode: input.channelCode, created: !existing };
  });
}

/** Stores a new secret; the ones valid before it stay valid until `oldValidUntil`. */
async function storeSecret(
  trx: Kysely<DB>,
  channelCode: string,
  encrypt: Encrypt,
  secret: string,
  now: Date,
  oldValidUntil: Date,
): Promise<void> {
  await trx
    .updateTable('channel_secret')
    .set({ valid_until: oldValidUntil })
    .where('channel_code', '=', channelCode)
    .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', oldValidUntil)]))
    .execute();
  const last = await trx
    .selectFrom('channel_secret')
    .select((eb) => eb.fn.max('secret_no').as('secret_no'))
    .where('channel_code', '=', channelCode)
    .executeTakeFirst();
  const secretNo = Number(last?.secret_no ?? 0) + 1;
  await trx
    .insertInto('channel_secret')
    .values({
      channel_code: channelCode,
      secret_no: secretNo,
      secret_encrypted: encrypt(secret, channelSecretField(channelCode, secretNo)),
      valid_from: now,
    })
    .execute();
}

/**
 * Rotates a channel's secret: the new one is valid at once, the old one for `overlapHours` more
 * (default 24), so the channel can switch without a failed request. Errors: forbidden, not_found,
 * validation_failed.
 */
export async function rotateChannelSecret(
  db: Kysely<DB>,
  principal: Principal,
  encrypt: Encrypt,
  input: { readonly channelCode: string; readonly secret: string; readonly overlapHours?: number },
  now: Date,
): Promise<{ channelCode: string; oldSecretValidUntil: string }> {
  requirePermission(principal, 'channel.manage');
  checkSecret(input.secret);
  const overlapHours = input.overlapHours ?? 24;
  if (!(overlapHours >= 0 && overlapHours <= 24 * 30))
    throw new AppError('validation_failed', 'overlapHours: 0 to 720');
  const until = new Date(now.getTime() + overlapHours * 3_600_000);
  return inTransaction(db, async (trx) => {
    const found = await trx
      .selectFrom('channel')
      .select('channel_code')
      .where('channel_code', '=', input.channelCode)
      .executeTakeFirst();
    if (!found) throw new AppError('not_found', `no channel ${input.channelCode}`);
    await storeSecret(trx, input.channelCode, encrypt, input.secret, now, until);
    await recordAudit(trx, principal, {
      action: 'channel.rotate_secret',
      objectType: 'channel',
      objectId: input.channelCode,
      details: { oldSecretValidUntil: until.toISOString() },
    });
    return { channelCode: input.channelCode, oldSecretValidUntil: until.toISOString() };
  });
}

/** Enables or disables a channel; a disabled channel's requests are refused (401). */
export async function setChannelEnabled(
  db: Kysely<DB>,
  principal: Principal,
  input: { readonly channelCode: string; readonly enabled: boolean },
  now: Date,
): Promise<{ channelCode: string; enabled: boolean }> {
  requirePermission(principal, 'channel.manage');
  return inTransaction(db, async (trx) => {
    const updated = await trx
      .updateTable('channel')
      .set({ enabled: input.enabled, updated_at: now })
      .where('channel_code', '=', input.channelCode)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0)
      throw new AppError('not_found', `no channel ${input.channelCode}`);
    await recordAudit(trx, principal, {
      action: input.enabled ? 'channel.enable' : 'channel.disable',
      objectType: 'channel',
      objectId: input.channelCode,
    });
    return { channelCode: input.channelCode, enabled: input.enabled };
  });
}

/** The channel registry, without secrets. */
export async function listChannels(db: Kysely<DB>, principal: Principal) {
  requirePermission(principal, 'reconciliation.read');
  const rows = await db
    .selectFrom('channel')
    .select([
      'channel_code',
      'name',
      'kind',
      'enabled',
      'file_encoding',
      'fee_per_txn_fen',
      'fee_rate',
      'rate_limit_per_second',
      'withholding_retry_rounds',
      'paid_at_window_days',
      'max_payment_fen',
      'created_at',
    ])
    .orderBy('channel_code')
    .execute();
  return rows.map((row) => ({
    channelCode: row.channel_code,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled,
    fileEncoding: row.file_encoding,
    feePerTxnFen: Number(row.fee_per_txn_fen),
    feeRate: row.fee_rate,
    rateLimitPerSecond: row.rate_limit_per_second,
    withholdingRetryRounds: row.withholding_retry_rounds,
    paidAtWindowDays: row.paid_at_window_days,
    maxPaymentFen: Number(row.max_payment_fen),
    createdAt: new Date(row.created_at).toISOString(),
  }));
}
