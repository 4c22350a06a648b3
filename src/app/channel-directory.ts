import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import type { ChannelFeeTerms } from '../domain/channel/channel-fee.js';
import {
  NONCE_PATTERN,
  NONCE_WINDOW_SECONDS,
  type SignedRequest,
  TIMESTAMP_WINDOW_SECONDS,
  signatureMatches,
} from '../adapters/crypto/request-signature.js';
import { AppError } from './errors.js';
import type { Clock, Decrypt } from './ports.js';
import { channelSecretField } from './sealed-fields.js';
import { type Principal, channelPrincipal } from './principal.js';

/** A signed request's nonce as stored: "<channel>:<nonce>", when seen, and the replay window's start. */
export interface RequestNonce {
  readonly key: string;
  readonly at: Date;
  readonly windowStart: Date;
}

/** A channel as the API needs it: its terms and the secrets valid now (decrypted). */
export interface ChannelRecord {
  readonly code: string;
  readonly name: string;
  readonly kind: string;
  readonly enabled: boolean;
  readonly secrets: readonly string[];
  readonly fee: ChannelFeeTerms;
  readonly ratePerSecond: number;
}

/**
 * Channels by code, read through a short cache (default 1 s) so that the signature check does
 * not cost a query per request; changes made through this process invalidate it at once, changes
 * from another process (the CLI) are seen within the cache time.
 */
export class ChannelDirectory {
  private readonly cache = new Map<string, { at: number; record: ChannelRecord | null }>();
  private lastPrune = 0;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly decrypt: Decrypt,
    private readonly clock: Clock,
    private readonly ttlMs = 1000,
  ) {}

  invalidate(code?: string): void {
    if (code === undefined) this.cache.clear();
    else this.cache.delete(code);
  }

  async get(code: string): Promise<ChannelRecord | null> {
    const now = Date.now();
    const hit = this.cache.get(code);
    if (hit && now - hit.at < this.ttlMs) return hit.record;
    const record = await this.load(code);
    this.cache.set(code, { at: now, record });
    return record;
  }

  private async load(code: string): Promise<ChannelRecord | null> {
    const row = await this.db
      .selectFrom('channel')
      .select([
        'channel_code',
        'name',
        'kind',
        'enabled',
        'fee_per_txn_fen',
        'fee_rate',
        'rate_limit_per_second',
      ])
      .where('channel_code', '=', code)
      .executeTakeFirst();
    if (!row) return null;
    const at = this.clock.now();
    const secrets = await this.db
      .selectFrom('channel_secret')
      .select(['secret_no', 'secret_encrypted'])
      .where('channel_code', '=', code)
      .where('valid_from', '<=', at)
      .where((eb) => eb.or([eb('valid_until', 'is', null), eb('valid_until', '>', at)]))
      .orderBy('secret_no', 'desc')
      .execute();
    return {
      code: row.channel_code,
      name: row.name,
      kind: row.kind,
      enabled: row.enabled,
      secrets: secrets.map((secret) =>
        this.decrypt(secret.secret_encrypted, channelSecretField(code, secret.secret_no)),
      ),
      fee: { perTransactionFen: Number(row.fee_per_txn_fen), rate: row.fee_rate },
      ratePerSecond: row.rate_limit_per_second,
    };
  }

  /**
   * Authenticates one channel request (channel-api.md): the channel exists and is enabled, the
   * timestamp lies within 300 s of server time, the signature matches a valid secret, and the
   * nonce was not used by the channel within 600 s. The nonce is recorded without waiting for
   * the disk (it is not financial; a payment's own commit is durable).
   * Errors: channel_headers_missing, channel_unknown, channel_disabled,
   * channel_timestamp_out_of_window, channel_signature_invalid, channel_nonce_reused.
   */
  async authenticate(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    request: Omit<SignedRequest, 'timestamp' | 'nonce'>,
    options: { readonly deferNonce?: boolean } = {},
  ): Promise<{ principal: Principal; channel: ChannelRecord; nonce: RequestNonce }> {
    const header = (name: string) => {
      const value = headers[name];
      return typeof value === 'string' ? value : undefined;
    };
    const channelId = header('x-channel-id');
    const timestamp = header('x-timestamp');
    const nonce = header('x-nonce');
    const signature = header('x-signature');
    if (!channelId || !timestamp || !nonce || !signature)
      throw new AppError(
        'channel_headers_missing',
        'X-Channel-Id, X-Timestamp, X-Nonce and X-Signature are all required',
      );
    const channel = await this.get(channelId);
    if (!channel) throw new AppError('channel_unknown', `unknown channel ${channelId}`);
    if (!channel.enabled) throw new AppError('channel_disabled', `channel ${channelId} is disabled`);
    if (!NONCE_PATTERN.test(nonce))
      throw new AppError('channel_headers_missing', 'X-Nonce must be 8–64 printable characters');
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > TIMESTAMP_WINDOW_SECONDS)
      throw new AppError(
        'channel_timestamp_out_of_window',
        `X-Timestamp must be Unix seconds within ${TIMESTAMP_WINDOW_SECONDS} s of server time (${nowSeconds})`,
      );
    const signed: SignedRequest = { ...request, timestamp, nonce };
    if (!channel.secrets.some((secret) => signatureMatches(secret, signed, signature.toLowerCase())))
      throw new AppError('channel_signature_invalid', 'X-Signature does not match the request');
    const now = this.clock.now();
    const requestNonce: RequestNonce = {
      key: `${channelId}:${nonce}`,
      at: now,
      windowStart: new Date(now.getTime() - NONCE_WINDOW_SECONDS * 1000),
    };
    if (!options.deferNonce) await this.recordNonce(requestNonce);
    if (now.getTime() - this.lastPrune > 60_000) {
      this.lastPrune = now.getTime();
      await this.db.deleteFrom('channel_nonce').where('seen_at', '<', requestNonce.windowStart).execute();
    }
    return { principal: channelPrincipal(channel.code, channel.name), channel, nonce: requestNonce };
  }

  /**
   * Records a nonce without waiting for the disk (it is not financial); refused when seen within
   * the window. A request that defers its nonce records it in its own transaction instead, and
   * here only when that transaction failed.
   */
  recordNonce(requestNonce: RequestNonce): Promise<void> {
    return recordNonce(this.db, requestNonce);
  }
}

/**
 * Records a request's nonce on its own, without waiting for the disk (it is not financial);
 * refused (channel_nonce_reused) when it was seen within the window.
 */
export async function recordNonce(db: Kysely<DB>, requestNonce: RequestNonce): Promise<void> {
  const { key, at: now, windowStart } = requestNonce;
  const result = await sql<{ nonce_key: string }>`
    insert into channel_nonce (nonce_key, seen_at)
    select ${key}, ${now}::timestamptz
    from (select set_config('synchronous_commit', 'off', true)) as relaxed
    on conflict (nonce_key) do update set seen_at = excluded.seen_at
      where channel_nonce.seen_at < ${windowStart}::timestamptz
    returning nonce_key`.execute(db);
  if (result.rows.length === 0)
    throw new AppError(
      'channel_nonce_reused',
      `X-Nonce ${key.slice(key.indexOf(':') + 1)} was used within the last ${NONCE_WINDOW_SECONDS} s`,
    );
}
