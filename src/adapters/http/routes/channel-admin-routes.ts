import type { FastifyPluginAsync } from 'fastify';
import {
  CHANNEL_KINDS,
  type ChannelKind,
  addChannel,
  listChannels,
  rotateChannelSecret,
  setChannelEnabled,
} from '../../../app/add-channel.js';
import type { ChannelDirectory } from '../../../app/channel-directory.js';
import { AppError } from '../../../app/errors.js';
import { channelSettlement } from '../../../app/queries/channel-settlement.js';
import {
  type CaseAction,
  type CaseView,
  approveCaseResolution,
  listReconciliationCases,
  requestCaseResolution,
} from '../../../app/reconciliation-cases.js';
import { addDays, parseLocalDate } from '../../../domain/local-date.js';
import { errorResponses } from '../schemas.js';
import { type ServerDeps, requirePrincipal } from '../server.js';

const DATE = { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' } as const;
const CHANNEL_CODE = { type: 'string', pattern: '^[A-Za-z0-9_-]{2,32}$' } as const;

/** Staff endpoints for the channel registry, reconciliation cases and the settlement report. */
export function channelAdminRoutes(
  deps: ServerDeps & { readonly channels: ChannelDirectory },
): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/channels',
      {
        schema: {
          summary: 'Collection channels (secrets never shown)',
          tags: ['channels'],
          response: errorResponses,
        },
      },
      async (request) => listChannels(deps.db, requirePrincipal(request)),
    );

    app.post<{
      Body: {
        id: string;
        secret?: string;
        name?: string;
        kind?: ChannelKind;
        fileEncoding?: 'utf-8' | 'gbk';
        feePerTxnFen?: number;
        feeRate?: string;
        rateLimitPerSecond?: number;
        withholdingRetryRounds?: number;
      };
    }>(
      '/channels',
      {
        schema: {
          summary: 'Register a channel or re-enable it with a new secret',
          tags: ['channels'],
          body: {
            type: 'object',
            required: ['id'],
            additionalProperties: false,
            properties: {
              id: CHANNEL_CODE,
              secret: { type: 'string', minLength: 16, maxLength: 256 },
              name: { type: 'string', minLength: 1, maxLength: 100 },
              kind: { type: 'string', enum: [...CHANNEL_KINDS] },
              fileEncoding: { type: 'string', enum: ['utf-8', 'gbk'] },
              feePerTxnFen: { type: 'integer', minimum: 0 },
              feeRate: { type: 'string', pattern: '^0(\\.[0-9]{1,6})?$' },
              rateLimitPerSecond: { type: 'integer', minimum: 1 },
              withholdingRetryRounds: { type: 'integer', minimum: 0, maximum: 10 },
            },
          },
          response: errorResponses,
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

    app.post<{ Params: { code: string }; Body: { enabled: boolean } }>(
      '/channels/:code/enabled',
      {
        schema: {
          summary: 'Enable or disable a channel',
          tags: ['channels'],
          params: { type: 'object', properties: { code: CHANNEL_CODE } },
          body: { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' } } },
          response: errorResponses,
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

    app.post<{ Params: { code: string }; Body: { secret: string; overlapHours?: number } }>(
      '/channels/:code/secret',
      {
        schema: {
          summary: 'Rotate a channel secret; the old one stays valid for the overlap window',
          tags: ['channels'],
          params: { type: 'object', properties: { code: CHANNEL_CODE } },
          body: {
            type: 'object',
            required: ['secret'],
            properties: {
              secret: { type: 'string', minLength: 16, maxLength: 256 },
              overlapHours: { type: 'number', minimum: 0, maximum: 720 },
            },
          },
          response: errorResponses,
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

    app.get<{ Querystring: { channel?: string; status?: CaseView['status']; limit?: number } }>(
      '/reconciliation/cases',
      {
        schema: {
          summary: 'Reconciliation discrepancies (对账差错) to resolve',
          tags: ['reconciliation'],
          querystring: {
            type: 'object',
            properties: {
              channel: CHANNEL_CODE,
              status: { type: 'string', enum: ['open', 'awaiting_approval', 'resolved', 'superseded'] },
              limit: { type: 'integer', minimum: 1, maximum: 5000 },
            },
          },
          response: errorResponses,
        },
      },
      async (request) =>
        listReconciliationCases(deps.db, requirePrincipal(request), {
          ...(request.query.channel ? { channelCode: request.query.channel } : {}),
          ...(request.query.status ? { status: request.query.status } : {}),
          ...(request.query.limit ? { limit: request.query.limit } : {}),
        }),
    );

    app.post<{ Params: { caseId: number }; Body: { action: CaseAction; reason: string } }>(
      '/reconciliation/cases/:caseId/resolution',
      {
        schema: {
          summary: 'Propose how a case is resolved (post the missing payment, reverse, escalate, no action)',
          tags: ['reconciliation'],
          params: { type: 'object', properties: { caseId: { type: 'integer' } } },
          body: {
            type: 'object',
            required: ['action', 'reason'],
            properties: {
              action: { type: 'string', enum: ['post_missing', 'reverse', 'escalate', 'no_action'] },
              reason: { type: 'string', minLength: 2, maxLength: 500 },
            },
          },
          response: errorResponses,
        },
      },
      async (request) =>
        requestCaseResolution(deps.db, requirePrincipal(request), {
          caseId: request.params.caseId,
          action: request.body.action,
          reason: request.body.reason,
        }),
    );

    app.post<{ Params: { caseId: number } }>(
      '/reconciliation/cases/:caseId/approval',
      {
        schema: {
          summary: 'A second person approves the proposed resolution, which is then carried out',
          tags: ['reconciliation'],
          params: { type: 'object', properties: { caseId: { type: 'integer' } } },
          response: errorResponses,
        },
      },
      async (request) =>
        approveCaseResolution(deps.db, requirePrincipal(request), deps.clock, request.params.caseId),
    );

    app.get<{ Querystring: { channel?: string; from?: string; to?: string } }>(
      '/reconciliation/settlement',
      {
        schema: {
          summary: 'Settlement per channel and business day, next to the journal’s channel clearing balance',
          tags: ['reconciliation'],
          querystring: {
            type: 'object',
            properties: { channel: CHANNEL_CODE, from: DATE, to: DATE },
          },
          response: errorResponses,
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
