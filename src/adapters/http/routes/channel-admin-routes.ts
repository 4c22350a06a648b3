import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  CHANNEL_KINDS,
  addChannel,
  listChannels,
  rotateChannelSecret,
  setChannelEnabled,
} from '../../../app/add-channel.js';
import type { ChannelDirectory } from '../../../app/channel-directory.js';
import { AppError } from '../../../app/errors.js';
import { channelSettlement } from '../../../app/queries/channel-settlement.js';
import {
  approveCaseResolution,
  listReconciliationCases,
  requestCaseResolution,
} from '../../../app/reconciliation-cases.js';
import { addDays, parseLocalDate } from '../../../domain/local-date.js';
import { AnyObject, Nullable, StringEnum, errorResponses } from '../schemas.js';
import { type ServerDeps, requirePrincipal } from '../server.js';

const DATE = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });
const CHANNEL_CODE = Type.String({ pattern: '^[A-Za-z0-9_-]{2,32}$' });

const YUAN = Type.String({ description: 'yuan, 2 decimals' });
const CASE_ACTIONS = ['post_missing', 'reverse', 'escalate', 'no_action'] as const;
const CASE_STATUSES = ['open', 'awaiting_approval', 'resolved', 'superseded'] as const;

const channelSchema = Type.Object({
  channelCode: Type.String(),
  name: Type.String(),
  kind: Type.String({ enum: [...CHANNEL_KINDS] }),
  enabled: Type.Boolean(),
  fileEncoding: StringEnum(['utf-8', 'gbk']),
  feePerTxnFen: Type.Integer(),
  feeRate: Type.String({ description: 'exact decimal share of the amount, e.g. "0.001000"' }),
  rateLimitPerSecond: Type.Integer(),
  withholdingRetryRounds: Type.Integer(),
  paidAtWindowDays: Type.Integer(),
  maxPaymentFen: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
});

const caseSchema = Type.Object({
  caseId: Type.Integer(),
  channelCode: Type.String(),
  businessDate: Type.String({ format: 'date' }),
  submissionNo: Type.Integer(),
  txnId: Type.String(),
  kind: Type.String(),
  channel: Nullable(AnyObject()),
  utility: Nullable(AnyObject()),
  status: StringEnum(CASE_STATUSES),
  action: Nullable(
    Type.Object({
      action: StringEnum(CASE_ACTIONS),
      reason: Type.String(),
      requestedBy: Nullable(Type.Integer()),
      approvedBy: Nullable(Type.Integer()),
      receiptNo: Nullable(Type.String()),
    }),
  ),
});

const settlementDaySchema = Type.Object({
  channelCode: Type.String(),
  businessDate: Type.String({ format: 'date' }),
  payments: Type.Integer(),
  paymentsTotal: YUAN,
  reversals: Type.Integer(),
  reversalsTotal: YUAN,
  fees: YUAN,
  owed: Type.String({ description: 'yuan the channel owes for the day: payments − reversals − fees' }),
  clearingBalance: Type.String({ description: 'yuan, the journal’s channel clearing balance for the day' }),
  agrees: Type.Boolean(),
  reconciliation: StringEnum(['none', 'open', 'accepted']),
  matchedTotal: Nullable(YUAN),
});

/** Staff endpoints for the channel registry, reconciliation cases and the settlement report. */
export function channelAdminRoutes(
  deps: ServerDeps & { readonly channels: ChannelDirectory },
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/channels',
      {
        schema: {
          summary: 'Collection channels (secrets never shown)',
          tags: ['channels'],
          response: { 200: Type.Array(channelSchema), ...errorResponses },
        },
      },
      async (request) => listChannels(deps.db, requirePrincipal(request)),
    );

    app.post(
      '/channels',
      {
        schema: {
          summary: 'Register a channel or re-enable it with a new secret',
          tags: ['channels'],
          body: Type.Object(
            {
              id: CHANNEL_CODE,
              secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
              name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
              kind: Type.Optional(StringEnum([...CHANNEL_KINDS])),
              fileEncoding: Type.Optional(StringEnum(['utf-8', 'gbk'])),
              feePerTxnFen: Type.Optional(Type.Integer({ minimum: 0 })),
              feeRate: Type.Optional(Type.String({ pattern: '^0(\\.[0-9]{1,6})?$' })),
              rateLimitPerSecond: Type.Optional(Type.Integer({ minimum: 1 })),
              withholdingRetryRounds: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ channelCode: Type.String(), created: Type.Boolean() }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const body = request.body;
        const result = await addChannel(
          deps.db,
          requirePrincipal(request),
          deps.cipher.encrypt,
          {
            channelCode: body.id,
            secret: body.secret,
            name: body.name,
            kind: body.kind,
            fileEncoding: body.fileEncoding,
            feePerTxnFen: body.feePerTxnFen,
            feeRate: body.feeRate,
            rateLimitPerSecond: body.rateLimitPerSecond,
            withholdingRetryRounds: body.withholdingRetryRounds,
          },
          deps.clock.now(),
        );
        deps.channels.invalidate(body.id);
        return result;
      },
    );

    app.post(
      '/channels/:code/enabled',
      {
        schema: {
          summary: 'Enable or disable a channel',
          tags: ['channels'],
          params: Type.Object({ code: CHANNEL_CODE }),
          body: Type.Object({ enabled: Type.Boolean() }),
          response: {
            200: Type.Object({ channelCode: Type.String(), enabled: Type.Boolean() }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const result = await setChannelEnabled(
          deps.db,
          requirePrincipal(request),
          { channelCode: request.params.code, enabled: request.body.enabled },
          deps.clock.now(),
        );
        deps.channels.invalidate(request.params.code);
        return result;
      },
    );

    app.post(
      '/channels/:code/secret',
      {
        schema: {
          summary: 'Rotate a channel secret; the old one stays valid for the overlap window',
          tags: ['channels'],
          params: Type.Object({ code: CHANNEL_CODE }),
          body: Type.Object({
            secret: Type.String({ minLength: 16, maxLength: 256 }),
            overlapHours: Type.Optional(Type.Number({ minimum: 0, maximum: 720 })),
          }),
          response: {
            200: Type.Object({
              channelCode: Type.String(),
              oldSecretValidUntil: Type.String({ format: 'date-time' }),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const result = await rotateChannelSecret(
          deps.db,
          requirePrincipal(request),
          deps.cipher.encrypt,
          { channelCode: request.params.code, ...request.body },
          deps.clock.now(),
        );
        deps.channels.invalidate(request.params.code);
        return result;
      },
    );

    app.get(
      '/reconciliation/cases',
      {
        schema: {
          summary: 'Reconciliation discrepancies (对账差错) to resolve',
          tags: ['reconciliation'],
          querystring: Type.Object({
            channel: Type.Optional(CHANNEL_CODE),
            status: Type.Optional(StringEnum(CASE_STATUSES)),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
          }),
          response: { 200: Type.Array(caseSchema), ...errorResponses },
        },
      },
      async (request) =>
        listReconciliationCases(deps.db, requirePrincipal(request), {
          ...(request.query.channel ? { channelCode: request.query.channel } : {}),
          ...(request.query.status ? { status: request.query.status } : {}),
          ...(request.query.limit ? { limit: request.query.limit } : {}),
        }),
    );

    app.post(
      '/reconciliation/cases/:caseId/resolution',
      {
        schema: {
          summary: 'Propose how a case is resolved (post the missing payment, reverse, escalate, no action)',
          tags: ['reconciliation'],
          params: Type.Object({ caseId: Type.Integer() }),
          body: Type.Object({
            action: StringEnum(CASE_ACTIONS),
            reason: Type.String({ minLength: 2, maxLength: 500 }),
          }),
          response: {
            200: Type.Object({ caseId: Type.Integer(), status: StringEnum(['awaiting_approval']) }),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        requestCaseResolution(deps.db, requirePrincipal(request), {
          caseId: request.params.caseId,
          action: request.body.action,
          reason: request.body.reason,
        }),
    );

    app.post(
      '/reconciliation/cases/:caseId/approval',
      {
        schema: {
          summary: 'A second person approves the proposed resolution, which is then carried out',
          tags: ['reconciliation'],
          params: Type.Object({ caseId: Type.Integer() }),
          response: {
            200: Type.Object({
              caseId: Type.Integer(),
              status: StringEnum(['resolved']),
              receiptNo: Nullable(Type.String()),
              dayAccepted: Type.Boolean(),
            }),
            ...errorResponses,
          },
        },
      },
      async (request) =>
        approveCaseResolution(deps.db, requirePrincipal(request), deps.clock, request.params.caseId),
    );

    app.get(
      '/reconciliation/settlement',
      {
        schema: {
          summary: 'Settlement per channel and business day, next to the journal’s channel clearing balance',
          tags: ['reconciliation'],
          querystring: Type.Object({
            channel: Type.Optional(CHANNEL_CODE),
            from: Type.Optional(DATE),
            to: Type.Optional(DATE),
          }),
          response: { 200: Type.Array(settlementDaySchema), ...errorResponses },
        },
      },
      async (request) => {
        const to = request.query.to ? parseLocalDate(request.query.to) : deps.clock.today();
        const from = request.query.from ? parseLocalDate(request.query.from) : to && addDays(to, -30);
        if (!from || !to) throw new AppError('validation_failed', 'from/to: calendar dates');
        return channelSettlement(deps.db, requirePrincipal(request), {
          ...(request.query.channel ? { channelCode: request.query.channel } : {}),
          from,
          to,
        });
      },
    );
  };
}
