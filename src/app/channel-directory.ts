import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import type { ChannelFeeTerms } from '../domain/channel/channel-fee.js';
import { type Fen, fen } from '../domain/money.js';
import {
  NONCE_PATTERN,
  NONCE_WINDOW_SECONDS,
  type SignedRequest,
  TIMESTAMP_WINDOW_SECONDS,
  signatureMatches,
} from './request-signature.js';
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
  /** Business days open to a payment's paidAt, today included (2: today and yesterday). */
  readonly paidAtWindowDays: number;
  /** The largest amount of one payment. */
  readonly maxPaymentFen: Fen;
}

/** A request whose headers were checked before its body is read (see ChannelDirectory.admit). */
export interface AdmittedRequest {
  readonly channel: ChannelRecord;
  readonly timestamp: string;
  readonly nonce: string;
  readonly signature: string;
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
    // Misses are cached too (a flood of unknown ids costs no query each): expired entries go
    // before the map grows past a bound.
    if (this.cache.size >= 10_000)
      for (const [key, entry] of this.cache) if (now - entry.at >= this.ttlMs) this.cache.delete(key);
    if (this.cache.size < 10_000) this.cache.set(code, { at: now, record });
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
        'paid_at_window_days',
        'max_payment_fen',
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
      paidAtWindowDays: row.paid_at_window_days,
      maxPaymentFen: fen(Number(row.max_payment_fen)),
    };
  }

  /**
   * Authenticates one channel request (docs/channel-api.md): admit (headers) then verify (body).
   * Errors: those of admit and verify.
   */
  async authenticate(
    headers: Readonly<Record<string, string | string[] | undefined>>,
    request: Omit<SignedRequest, 'timestamp' | 'nonce'>,
    options: { readonly deferNonce?: boolean } = {},
  ): Promise<{ principal: Principal; channel: ChannelRecord; nonce: RequestNonce }> {
    return this.verify(await this.admit(headers), request, options);
  }

  /**
   * The checks made before a request's body is read: the four headers are present and well
   * formed (nonce 8–64 printable characters, signature 64 hex digits), the timestamp lies within
   * 300 s of server time, and the channel exists. A disabled channel is admitted: whether it is
   * told "disabled" or "unknown" depends on its signature, which needs the body (see verify).
   * Errors: channel_headers_missing, channel_signature_invalid, channel_timestamp_out_of_window,
   * channel_unknown.
   */
  async admit(headers: Readonly<Record<string, string | string[] | undefined>>): Promise<AdmittedRequest> {
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
    if (!NONCE_PATTERN.test(nonce))
      throw new AppError('channel_headers_missing', 'X-Nonce must be 8–64 printable characters');
    if (!/^[0-9a-fA-F]{64}$/.test(signature))
      throw new AppError('channel_signature_invalid', 'X-Signature must be 64 hex digits (HMAC-SHA256)');
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > TIMESTAMP_WINDOW_SECONDS)
      throw new AppError(
        'channel_timestamp_out_of_window',
        `X-Timestamp must be Unix seconds within ${TIMESTAMP_WINDOW_SECONDS} s of server time (${nowSeconds})`,
      );
    const channel = /^[A-Za-z0-9_-]{1,64}$/.test(channelId) ? await this.get(channelId) : null;
    if (!channel) throw unknownChannel();
    return { channel, timestamp, nonce, signature: signature.toLowerCase() };
  }

  /**
   * The checks made on the body: the signature matches a valid secret of the channel, the
   * channel is enabled, and the nonce was not used by the channel within 600 s. A disabled
   * channel whose signature does not match is answered exactly as an unknown one, so that the
   * registry cannot be probed. The nonce is recorded without waiting for the disk (it is not
   * financial; a payment's own commit is durable).
   * Errors: channel_unknown, channel_signature_invalid, channel_disabled, channel_nonce_reused.
   */
  async verify(
    admitted: AdmittedRequest,
    request: Omit<SignedRequest, 'timestamp' | 'nonce'>,
    options: { readonly deferNonce?: boolean } = {},
  ): Promise<{ principal: Principal; channel: ChannelRecord; nonce: RequestNonce }> {
    const { channel, timestamp, nonce, signature } = admitted;
    const signed: SignedRequest = { ...request, timestamp, nonce };
    const matches = channel.secrets.some((secret) => signatureMatches(secret, signed, signature));
    if (!matches && !channel.enabled) throw unknownChannel();
    if (!matches) throw new AppError('channel_signature_invalid', 'X-Signature does not match the request');
    if (!channel.enabled) throw new AppError('channel_disabled', `channel ${channel.code} is disabled`);
    const now = this.clock.now();
    const requestNonce: RequestNonce = {
      key: `${channel.code}:${nonce}`,
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

/** Unknown, or disabled without a matching signature: one answer, so the registry cannot be probed. */
function unknownChannel(): AppError {
  return new AppError('channel_unknown', 'X-Channel-Id names no enabled channel');
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
