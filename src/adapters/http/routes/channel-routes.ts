import { Ajv } from 'ajv';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { StringEnum } from '../schemas.js';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import {
  postChannelPayment,
  queryCustomerDue,
  reverseChannelPayment,
} from '../../../app/channel-collection.js';
import type {
  AdmittedRequest,
  ChannelDirectory,
  ChannelRecord,
  RequestNonce,
} from '../../../app/channel-directory.js';
import { AppError, type ErrorCode } from '../../../app/errors.js';
import type { Clock } from '../../../app/ports.js';
import type { Principal } from '../../../app/principal.js';
import type { PaymentBatcher } from '../../../app/payment-batcher.js';
import { reconcileChannelDay } from '../../../app/reconcile-channel-day.js';
import { parseLocalDate } from '../../../domain/local-date.js';
import { parseYuan } from '../../../domain/money.js';
import type { DB } from '../../../db/schema.js';
import { errorBody } from '../error-mapper.js';
import type { RateLimiter } from '../rate-limiter.js';

export interface ChannelRouteDeps {
  readonly db: Kysely<DB>;
  /** Shares one commit among concurrent payments; without it each payment commits alone. */
  readonly batcher?: PaymentBatcher;
  readonly clock: Clock;
  readonly channels: ChannelDirectory;
  readonly rateLimiter: RateLimiter;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set before the body is read: the headers' checks passed (see ChannelDirectory.admit). */
    channelAdmitted: AdmittedRequest | null;
    channel: { principal: Principal; record: ChannelRecord; nonce: RequestNonce | null } | null;
  }
}

/** The largest body of a channel request (1 MiB), and of a reconciliation file (16 MiB). */
export const CHANNEL_BODY_LIMIT = 1024 * 1024;
export const RECONCILIATION_BODY_LIMIT = 16 * 1024 * 1024;

/** Error codes of the channel contract (UPPER_SNAKE), by our catalogue code. */
const CONTRACT_CODE: Partial<Record<ErrorCode, { status: number; code: string }>> = {
  channel_headers_missing: { status: 401, code: 'AUTH_MISSING_HEADERS' },
  channel_unknown: { status: 401, code: 'AUTH_UNKNOWN_CHANNEL' },
  channel_disabled: { status: 401, code: 'AUTH_CHANNEL_DISABLED' },
  channel_timestamp_out_of_window: { status: 401, code: 'AUTH_TIMESTAMP_EXPIRED' },
  channel_signature_invalid: { status: 401, code: 'AUTH_BAD_SIGNATURE' },
  channel_nonce_reused: { status: 401, code: 'AUTH_NONCE_REUSED' },
  validation_failed: { status: 400, code: 'INVALID_REQUEST' },
  not_found: { status: 404, code: 'NOT_FOUND' },
  forbidden: { status: 401, code: 'AUTH_FORBIDDEN' },
  payment_key_conflict: { status: 409, code: 'TXN_CONFLICT' },
  reversal_closed: { status: 422, code: 'REVERSAL_CLOSED' },
  business_day_closed: { status: 422, code: 'BUSINESS_DAY_CLOSED' },
  reconciliation_closed: { status: 422, code: 'RECONCILIATION_CLOSED' },
  paid_at_out_of_window: { status: 422, code: 'PAID_AT_OUT_OF_WINDOW' },
  amount_above_limit: { status: 422, code: 'AMOUNT_ABOVE_LIMIT' },
  rate_limited: { status: 429, code: 'RATE_LIMITED' },
  service_unavailable: { status: 503, code: 'SERVICE_UNAVAILABLE' },
};

/** Database states in which the request was not recorded and a retry will do (503). */
const RETRYABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '40001',
  '40P01',
  '08000',
  '08003',
  '08006',
]);

function isRetryable(error: Error): boolean {
  const code = (error as { code?: string }).code;
  if (code && RETRYABLE.has(code)) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    error.message,
  );
}

function handleChannelError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  // A request refused before its body was read: the connection is closed rather than drained.
  if (!request.raw.complete) reply.header('connection', 'close');
  if ((error as FastifyError).statusCode === 413) {
    // A disabled channel's oversized body cannot carry a valid signature: answered as unknown.
    if (request.channelAdmitted && !request.channelAdmitted.channel.enabled) {
      reply.status(401).send(errorBody('AUTH_UNKNOWN_CHANNEL', 'X-Channel-Id names no enabled channel'));
      return;
    }
    reply.status(413).send(errorBody('BODY_TOO_LARGE', bodyTooLarge(request)));
    return;
  }
  if (error instanceof AppError) {
    const mapped = CONTRACT_CODE[error.code] ?? { status: 500, code: 'INTERNAL_ERROR' };
    const code = typeof error.details?.contractCode === 'string' ? error.details.contractCode : mapped.code;
    if (mapped.status === 429) reply.header('retry-after', '1');
    reply.status(mapped.status).send(errorBody(code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const first = fastifyError.validation[0];
    const field =
      (first?.params as { missingProperty?: string } | undefined)?.missingProperty ??
      first?.instancePath.replace(/^\//, '').replaceAll('/', '.') ??
      'body';
    const isAmount = /(^|\.)(amount|total)$/.test(field);
    reply
      .status(400)
      .send(
        errorBody(
          isAmount ? 'INVALID_AMOUNT' : 'INVALID_REQUEST',
          `${field || 'body'}: ${first?.message ?? 'invalid'}`,
        ),
      );
    return;
  }
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    reply.status(400).send(errorBody('INVALID_REQUEST', fastifyError.message));
    return;
  }
  if (isRetryable(error)) {
    request.log.warn({ err: error }, 'channel request refused for now');
    reply
      .header('retry-after', '1')
      .status(503)
      .send(errorBody('SERVICE_UNAVAILABLE', 'the server cannot take the request now; retry later'));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  reply
    .status(500)
    .send(errorBody('INTERNAL_ERROR', 'internal error; nothing to retry until the utility answers'));
}

function bodyTooLarge(request: FastifyRequest): string {
  const limit = request.routeOptions.bodyLimit ?? CHANNEL_BODY_LIMIT;
  return `the body is larger than ${limit / 1024 / 1024} MiB; it was not read`;
}

const AMOUNT = Type.String({
  pattern: '^[0-9]{1,13}(\\.[0-9]{1,2})?$',
  description: 'yuan, at most 2 decimals',
});
const ISO_WITH_OFFSET =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})$';
const TXN_ID = Type.String({ minLength: 1, maxLength: 64, pattern: '^[\\x21-\\x7e]+$' });
const ERROR = Type.Partial(
  Type.Object({ error: Type.Partial(Type.Object({ code: Type.String(), message: Type.String() })) }),
);
const SIGNED_HEADERS = Type.Partial(
  Type.Object({
    'x-channel-id': Type.String(),
    'x-timestamp': Type.String({ description: 'Unix seconds' }),
    'x-nonce': Type.String({ description: '8–64 characters, never reused within 600 s' }),
    'x-signature': Type.String({
      description: 'hex HMAC-SHA256 of METHOD\\nPATH\\nX-Timestamp\\nX-Nonce\\nhex(SHA256(body))',
    }),
  }),
);
/** A free-form JSON object or null, in the OpenAPI 3.0 form (`nullable`). */
const NULLABLE_OBJECT = Type.Unsafe<Record<string, unknown> | null>({
  type: 'object',
  nullable: true,
  additionalProperties: true,
});
const errors = {
  400: ERROR,
  401: ERROR,
  404: ERROR,
  409: ERROR,
  413: ERROR,
  422: ERROR,
  429: ERROR,
  503: ERROR,
};

function positiveAmount(text: string, field: string) {
  const amount = parseYuan(text);
  if (amount === null || amount <= 0)
    throw new AppError('validation_failed', `${field}: must be more than 0.00 with at most 2 decimals`, {
      contractCode: 'INVALID_AMOUNT',
    });
  return amount;
}

/**
 * The real-time collection API for banks and payment platforms (docs/channel-api.md), under
 * /channel/v1. Every request is signed; bodies are read raw for the signature and parsed after it.
 */
export function channelRoutes(deps: ChannelRouteDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.setErrorHandler(handleChannelError);
    // Types are what the contract says: no coercion (an amount sent as a JSON number is refused).
    const ajv = new Ajv({ coerceTypes: false, allErrors: false, removeAdditional: false, useDefaults: true });
    app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
    app.decorateRequest('channel', null);
    app.decorateRequest('channelAdmitted', null);
    app.removeAllContentTypeParsers();
    // The route's bodyLimit applies (1 MiB, reconciliation 16 MiB): a declared Content-Length
    // above it is refused before a byte is read, a streamed body once it passes the limit.
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

    // Headers first: a request without a known channel and a fresh timestamp is refused before
    // its body is read.
    app.addHook('onRequest', async (request) => {
      request.channelAdmitted = await deps.channels.admit(request.headers);
    });

    app.addHook('preValidation', async (request) => {
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const path = request.url.split('?')[0]!;
      // A payment records its nonce in its own transaction (one durable commit per payment).
      const deferNonce = request.method === 'POST' && path === '/channel/v1/payments';
      const admitted = request.channelAdmitted;
      if (!admitted) throw new AppError('channel_headers_missing', 'not authenticated');
      const { principal, channel, nonce } = await deps.channels.verify(
        admitted,
        { method: request.method, path, body: raw },
        { deferNonce },
      );
      if (!deps.rateLimiter.take(channel.code, channel.ratePerSecond))
        throw new AppError('rate_limited', `more than ${channel.ratePerSecond} requests per second`);
      request.channel = { principal, record: channel, nonce: deferNonce ? nonce : null };
      if (request.method === 'GET') return;
      try {
        request.body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new AppError('validation_failed', 'body: not valid JSON', { contractCode: 'MALFORMED_JSON' });
      }
    });

    const channelOf = (request: FastifyRequest) => {
      if (!request.channel) throw new AppError('channel_headers_missing', 'not authenticated');
      return request.channel;
    };

    app.post(
      '/bills/query',
      {
        schema: {
          summary: '欠费查询: what a customer owes today',
          tags: ['channel'],
          headers: SIGNED_HEADERS,
          body: Type.Object({ customerNo: Type.String({ minLength: 1, maxLength: 32 }) }),
          response: {
            200: Type.Object({
              customerNo: Type.String(),
              name: Type.String(),
              bills: Type.Immutable(
                Type.Array(
                  Type.Object({
                    billId: Type.Optional(Type.String()),
                    period: Type.Optional(Type.String()),
                    amount: Type.Optional(Type.String()),
                    paid: Type.Optional(Type.String()),
                    lateFee: Type.Optional(Type.String()),
                    due: Type.Optional(Type.String()),
                  }),
                ),
              ),
              totalDue: Type.String(),
              prepaidBalance: Type.String(),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { principal } = channelOf(request);
        try {
          return await queryCustomerDue(deps.db, principal, deps.clock, request.body.customerNo);
        } catch (error) {
          throw notFoundAs(error, 'CUSTOMER_NOT_FOUND');
        }
      },
    );

    app.post(
      '/payments',
      {
        schema: {
          summary: '缴费: pay, exactly once per (channel, txnId)',
          tags: ['channel'],
          headers: SIGNED_HEADERS,
          body: Type.Object({
            txnId: TXN_ID,
            customerNo: Type.String({ minLength: 1, maxLength: 32 }),
            amount: AMOUNT,
            paidAt: Type.String({ pattern: ISO_WITH_OFFSET, description: 'ISO-8601 with offset' }),
          }),
          response: {
            200: Type.Object({
              txnId: Type.String(),
              receiptNo: Type.String(),
              status: StringEnum(['posted', 'reversed']),
              allocations: Type.Immutable(
                Type.Array(
                  Type.Object({
                    billId: Type.Optional(Type.String()),
                    principal: Type.Optional(Type.String()),
                    lateFee: Type.Optional(Type.String()),
                  }),
                ),
              ),
              prepaidBalance: Type.String(),
              businessDate: Type.Optional(Type.String()),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { principal, record, nonce } = channelOf(request);
        try {
          const paidAt = new Date(request.body.paidAt);
          if (Number.isNaN(paidAt.getTime()))
            throw new AppError('validation_failed', 'paidAt: not a valid instant');
          return await postChannelPayment(
            deps.db,
            principal,
            record,
            deps.clock,
            {
              txnId: request.body.txnId,
              customerNo: request.body.customerNo,
              amountFen: positiveAmount(request.body.amount, 'amount'),
              paidAt,
            },
            nonce ?? undefined,
            deps.batcher
              ? (who, what, options) => deps.batcher!.submit({ principal: who, input: what, ...options })
              : undefined,
          );
        } catch (error) {
          // A batch records every item's nonce, refused ones too. A single payment's transaction
          // did not commit: its nonce is recorded now, and a nonce used before wins over the
          // payment's own error (the request is a replay).
          if (!deps.batcher && nonce && !(error instanceof AppError && error.code === 'channel_nonce_reused'))
            await deps.channels.recordNonce(nonce);
          throw notFoundAs(error, 'CUSTOMER_NOT_FOUND');
        }
      },
    );

    app.post(
      '/payments/:txnId/reverse',
      {
        schema: {
          summary: '冲正: reverse a payment until the day is reconciled',
          tags: ['channel'],
          headers: SIGNED_HEADERS,
          params: Type.Object({ txnId: TXN_ID }),
          body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }),
          response: {
            200: Type.Object({
              txnId: Type.String(),
              status: Type.String(),
              receiptNo: Type.Optional(Type.String()),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { principal, record } = channelOf(request);
        const reason = request.body.reason?.trim() || '渠道冲正';
        try {
          const result = await reverseChannelPayment(deps.db, principal, record, {
            txnId: request.params.txnId,
            reason: reason.length >= 2 ? reason : `渠道冲正: ${reason}`,
          });
          return { txnId: result.txnId, status: result.status, receiptNo: result.receiptNo };
        } catch (error) {
          throw notFoundAs(error, 'TXN_NOT_FOUND');
        }
      },
    );

    app.post(
      '/reconciliation',
      {
        bodyLimit: RECONCILIATION_BODY_LIMIT,
        schema: {
          summary: '对账: the channel’s lines of one business day',
          tags: ['channel'],
          headers: SIGNED_HEADERS,
          body: Type.Object({
            businessDate: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }),
            count: Type.Integer({ minimum: 0 }),
            total: AMOUNT,
            lines: Type.Immutable(
              Type.Array(
                Type.Object({
                  txnId: TXN_ID,
                  customerNo: Type.String({ minLength: 1, maxLength: 32 }),
                  amount: AMOUNT,
                  status: StringEnum(['posted', 'reversed']),
                }),
              ),
            ),
          }),
          response: {
            200: Type.Object({
              businessDate: Type.String(),
              matched: Type.Integer(),
              total: Type.String(),
              discrepancies: Type.Immutable(
                Type.Array(
                  Type.Object({
                    txnId: Type.Optional(Type.String()),
                    kind: Type.Optional(Type.String()),
                    channel: Type.Optional(NULLABLE_OBJECT),
                    utility: Type.Optional(NULLABLE_OBJECT),
                  }),
                ),
              ),
              submissionNo: Type.Optional(Type.Integer()),
              accepted: Type.Optional(Type.Boolean()),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { principal, record } = channelOf(request);
        const businessDate = parseLocalDate(request.body.businessDate);
        if (!businessDate) throw new AppError('validation_failed', 'businessDate: not a calendar date');
        const totalFen = parseYuan(request.body.total);
        if (totalFen === null) throw new AppError('validation_failed', 'total: yuan with 2 decimals');
        return reconcileChannelDay(deps.db, principal, record.code, deps.clock, {
          businessDate,
          count: request.body.count,
          totalFen,
          lines: request.body.lines.map((line, k) => ({
            txnId: line.txnId,
            customerNo: line.customerNo,
            amountFen: positiveAmount(line.amount, `lines[${k}].amount`),
            status: line.status,
          })),
        });
      },
    );
  };
}

function notFoundAs(error: unknown, contractCode: string): unknown {
  if (error instanceof AppError && error.code === 'not_found')
    return new AppError('not_found', error.message, { contractCode });
  return error;
}
