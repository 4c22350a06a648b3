import os from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../../app/errors.js';
import { type Principal, requirePermission } from '../../../app/principal.js';
import { areaBillList, billDocument } from '../../../app/queries/bill-document.js';
import { listCustomerBills } from '../../../app/queries/list-bills.js';
import type { PaymentBatcher } from '../../../app/payment-batcher.js';
import { postPayment } from '../../../app/post-payment.js';
import { reversePayment } from '../../../app/reverse-payment.js';
import { renderAreaBillListPdf, renderBillPdf } from '../../files/bill-pdf.js';
import { findPdfFont } from '../../files/pdf-font.js';
import { listReadExceptions } from '../../../app/queries/list-read-exceptions.js';
import { readQuality } from '../../../app/queries/read-quality.js';
import { type Resolution, resolveReadException } from '../../../app/resolve-read-exception.js';
import type { Period } from '../../../domain/local-date.js';
import { fen, formatYuan, parseYuan } from '../../../domain/money.js';
import { releaseBills } from '../../../jobs/billing/release-bills.js';
import { runBilling } from '../../../jobs/billing/run-billing.js';
import { errorResponses } from '../schemas.js';
import { type ServerDeps, requirePrincipal } from '../server.js';

const PERIOD = { type: 'string', pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$' } as const;
const LINE = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    kwh: { type: ['string', 'null'] },
    price: { type: ['string', 'null'] },
    amount: { type: 'string' },
  },
} as const;

/**
 * A station's staff act on their own station; county staff on any station or the whole county.
 * Errors: out_of_scope.
 */
function stationScope(principal: Principal, stationId: number | undefined): number | undefined {
  const segments = principal.scopePath.split('/').filter(Boolean);
  const own = segments.length >= 2 ? Number(segments[1]) : undefined;
  if (own === undefined) return stationId;
  if (stationId !== undefined && stationId !== own)
    throw new AppError('out_of_scope', `station ${stationId} is outside your scope`);
  return own;
}

export function billingRoutes(
  deps: ServerDeps & {
    /** Shares commits between concurrent payments (PostgreSQL); without it each commits alone. */
    readonly batcher?: PaymentBatcher;
  },
): FastifyPluginAsync {
  return async (app) => {
    app.get<{ Params: { customerNo: string }; Querystring: { limit?: number } }>(
      '/customers/:customerNo/bills',
      {
        schema: {
          summary: 'A customer’s bills with lines, numbers and due dates (newest first)',
          tags: ['billing'],
          params: {
            type: 'object',
            properties: { customerNo: { type: 'string', pattern: '^[0-9]{6,20}$' } },
          },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { limit: { type: 'integer', minimum: 1, maximum: 120, default: 24 } },
          },
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  billId: { type: 'integer' },
                  period: { type: 'string' },
                  revision: { type: 'integer' },
                  status: { type: 'string', enum: ['draft', 'released'] },
                  billNo: { type: ['string', 'null'] },
                  releasedOn: { type: ['string', 'null'] },
                  dueOn: { type: ['string', 'null'] },
                  kwh: { type: 'string' },
                  amount: { type: 'string' },
                  lines: { type: 'array', items: LINE },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) =>
        listCustomerBills(
          deps.db,
          requirePrincipal(request),
          request.params.customerNo,
          request.query.limit ?? 24,
        ),
    );

    app.get<{ Params: { customerNo: string; period: string } }>(
      '/customers/:customerNo/bills/:period/pdf',
      {
        schema: {
          summary: 'A customer’s bill for a period as a PDF (电费通知单)',
          tags: ['billing'],
          params: {
            type: 'object',
            properties: { customerNo: { type: 'string', pattern: '^[0-9]{6,20}$' }, period: PERIOD },
          },
          produces: ['application/pdf'],
        },
      },
      async (request, reply) => {
        const document = await billDocument(
          deps.db,
          requirePrincipal(request),
          request.params.customerNo,
          request.params.period,
        );
        const pdf = await renderBillPdf(document, findPdfFont(deps.pdfFontPath));
        return reply
          .type('application/pdf')
          .header(
            'content-disposition',
            `inline; filename="bill-${request.params.customerNo}-${request.params.period}.pdf"`,
          )
          .send(pdf);
      },
    );

    app.get<{ Params: { areaCode: string }; Querystring: { period: string } }>(
      '/areas/:areaCode/bill-list.pdf',
      {
        schema: {
          summary: 'A transformer area’s printable bill list for rural electricians (台区电费清单)',
          tags: ['billing'],
          params: {
            type: 'object',
            properties: { areaCode: { type: 'string', pattern: '^[A-Z0-9-]{2,32}$' } },
          },
          querystring: {
            type: 'object',
            required: ['period'],
            additionalProperties: false,
            properties: { period: PERIOD },
          },
          produces: ['application/pdf'],
        },
      },
      async (request, reply) => {
        const list = await areaBillList(
          deps.db,
          requirePrincipal(request),
          request.params.areaCode,
          request.query.period,
        );
        const pdf = await renderAreaBillListPdf(list, findPdfFont(deps.pdfFontPath));
        return reply
          .type('application/pdf')
          .header(
            'content-disposition',
            `inline; filename="bill-list-${request.params.areaCode}-${request.query.period}.pdf"`,
          )
          .send(pdf);
      },
    );

    app.get<{ Querystring: { period: string; stationId?: number; open?: boolean; limit?: number } }>(
      '/read-exceptions',
      {
        schema: {
          summary: 'The read exception queue of a period (异常工单): open holds first',
          tags: ['billing'],
          querystring: {
            type: 'object',
            required: ['period'],
            additionalProperties: false,
            properties: {
              period: PERIOD,
              stationId: { type: 'integer' },
              open: { type: 'boolean', description: 'only unresolved holds' },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            },
          },
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  customerNo: { type: 'string' },
                  name: { type: 'string' },
                  stationName: { type: 'string' },
                  transformerAreaName: { type: 'string' },
                  period: { type: 'string' },
                  code: { type: 'string' },
                  severity: { type: 'string' },
                  detail: { type: 'object', additionalProperties: true },
                  resolution: { type: ['string', 'null'] },
                  billed: { type: 'boolean' },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) =>
        listReadExceptions(deps.db, requirePrincipal(request), {
          period: request.query.period,
          ...(request.query.stationId !== undefined ? { stationId: request.query.stationId } : {}),
          openOnly: request.query.open ?? false,
          limit: request.query.limit ?? 200,
        }),
    );

    app.get<{ Querystring: { period: string; by?: 'station' | 'reader' } }>(
      '/reads/quality',
      {
        schema: {
          summary: 'Actual-read rate (实抄率) and read error rate per station or meter reader',
          tags: ['billing'],
          querystring: {
            type: 'object',
            required: ['period'],
            additionalProperties: false,
            properties: {
              period: PERIOD,
              by: { type: 'string', enum: ['station', 'reader'], default: 'station' },
            },
          },
          response: {
            200: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  key: { type: 'string' },
                  name: { type: 'string' },
                  stationName: { type: 'string' },
                  due: { type: 'integer' },
                  actual: { type: 'integer' },
                  estimated: { type: 'integer' },
                  missing: { type: 'integer' },
                  errors: { type: 'integer' },
                  actualReadRate: { type: 'number' },
                  errorRate: { type: 'number' },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) =>
        readQuality(
          deps.db,
          requirePrincipal(request),
          request.query.period as Period,
          request.query.by ?? 'station',
        ),
    );

    app.post<{
      Body: {
        customerNo: string;
        period: string;
        code: string;
        resolution: 'confirmed' | 'estimated' | 'corrected' | 'rejected';
        method?: 'average_recent' | 'same_month_last_year';
        meterNo?: string;
        values?: Record<string, string>;
        note?: string;
      };
    }>(
      '/read-exceptions/resolve',
      {
        schema: {
          summary:
            'A billing checker confirms, estimates or corrects a held read; a conflicting read is confirmed or rejected',
          tags: ['billing'],
          body: {
            type: 'object',
            required: ['customerNo', 'period', 'code', 'resolution'],
            additionalProperties: false,
            properties: {
              customerNo: { type: 'string', pattern: '^[0-9]{6,20}$' },
              period: PERIOD,
              code: { type: 'string', minLength: 1, maxLength: 64 },
              resolution: { type: 'string', enum: ['confirmed', 'estimated', 'corrected', 'rejected'] },
              method: { type: 'string', enum: ['average_recent', 'same_month_last_year'] },
              meterNo: { type: 'string' },
              values: {
                type: 'object',
                additionalProperties: { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' },
              },
              note: { type: 'string', maxLength: 500 },
            },
          },
          response: {
            200: { type: 'object', properties: { readsAdded: { type: 'integer' } } },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const body = request.body;
        const note = body.note ? { note: body.note } : {};
        let resolution: Resolution;
        if (body.resolution === 'confirmed') resolution = { kind: 'confirmed', ...note };
        else if (body.resolution === 'rejected') resolution = { kind: 'rejected', ...note };
        else if (body.resolution === 'estimated')
          resolution = { kind: 'estimated', method: body.method ?? 'average_recent', ...note };
        else {
          if (!body.meterNo || !body.values)
            throw new AppError('validation_failed', 'meterNo and values are required for a correction');
          resolution = { kind: 'corrected', meterNo: body.meterNo, values: body.values, ...note };
        }
        return resolveReadException(deps.db, requirePrincipal(request), {
          customerNo: body.customerNo,
          period: body.period as Period,
          code: body.code,
          resolution,
          readOn: deps.clock.today(),
        });
      },
    );

    app.post<{
      Body: { customerNo: string; amount: string; receiptKey: string; source?: 'counter' | 'collector' };
    }>(
      '/payments',
      {
        schema: {
          summary:
            'A cashier or collector posts a payment (坐收 / 走收): late fees and oldest bills first, the rest prepaid',
          tags: ['payments'],
          body: {
            type: 'object',
            required: ['customerNo', 'amount', 'receiptKey'],
            additionalProperties: false,
            properties: {
              customerNo: { type: 'string', pattern: '^[0-9]{6,20}$' },
              amount: { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' },
              receiptKey: {
                type: 'string',
                minLength: 1,
                maxLength: 64,
                description: 'posting the same key again returns the first result',
              },
              source: { type: 'string', enum: ['counter', 'collector'], default: 'counter' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                receiptNo: { type: 'string' },
                customerNo: { type: 'string' },
                amount: { type: 'string' },
                prepaid: { type: 'string' },
                replayed: { type: 'boolean' },
                allocations: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      billId: { type: 'integer' },
                      period: { type: 'string' },
                      kind: { type: 'string' },
                      amount: { type: 'string' },
                    },
                  },
                },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const amountFen = parseYuan(request.body.amount);
        if (amountFen === null || amountFen <= 0)
          throw new AppError('validation_failed', 'amount: must be more than 0.00');
        const source = request.body.source ?? 'counter';
        const input = {
          idempotencyKey: `${source}:${principal.staffId}:${request.body.receiptKey}`,
          customerNo: request.body.customerNo,
          amountFen,
          paidAt: deps.clock.now(),
          businessDate: deps.clock.today(),
          source: { kind: source, staffId: principal.staffId ?? 0 },
        };
        const result = deps.batcher
          ? await deps.batcher.submit({ principal, input })
          : await postPayment(deps.db, principal, input);
        return {
          ...result,
          amount: formatYuan(result.amountFen),
          prepaid: formatYuan(result.prepaidFen),
          allocations: result.allocations.map((a) => ({ ...a, amount: formatYuan(a.amountFen) })),
        };
      },
    );

    app.post<{ Body: { receiptKey: string; reason: string; source?: 'counter' | 'collector' } }>(
      '/payments/reverse',
      {
        schema: {
          summary: 'Reverse (冲正) one of your own counter or collector payments by new entries',
          tags: ['payments'],
          body: {
            type: 'object',
            required: ['receiptKey', 'reason'],
            additionalProperties: false,
            properties: {
              receiptKey: { type: 'string', minLength: 1, maxLength: 64 },
              reason: { type: 'string', minLength: 2, maxLength: 500 },
              source: { type: 'string', enum: ['counter', 'collector'], default: 'counter' },
            },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                receiptNo: { type: 'string' },
                reversedAt: { type: 'string', format: 'date-time' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const result = await reversePayment(deps.db, principal, {
          idempotencyKey: `${request.body.source ?? 'counter'}:${principal.staffId}:${request.body.receiptKey}`,
          reason: request.body.reason,
          businessDate: deps.clock.today(),
        });
        return { receiptNo: result.receiptNo, reversedAt: result.reversedAt.toISOString() };
      },
    );

    app.post<{ Body: { period: string; stationId?: number; dryRun?: boolean } }>(
      '/billing/runs',
      {
        schema: {
          summary: 'Run billing (电费核算) for a period: drafts, with held reads queued',
          tags: ['billing'],
          body: {
            type: 'object',
            required: ['period'],
            additionalProperties: false,
            properties: { period: PERIOD, stationId: { type: 'integer' }, dryRun: { type: 'boolean' } },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                runKey: { type: 'string' },
                period: { type: 'string' },
                stationId: { type: ['integer', 'null'] },
                dryRun: { type: 'boolean' },
                billed: { type: 'integer' },
                held: { type: 'integer' },
                failed: { type: 'integer' },
                amount: { type: 'string' },
                exceptions: { type: 'object', additionalProperties: { type: 'integer' } },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        requirePermission(principal, 'billing.run');
        const stationId = stationScope(principal, request.body.stationId);
        const summary = await runBilling(deps.db, {
          period: request.body.period as Period,
          ...(stationId !== undefined ? { stationId } : {}),
          dryRun: request.body.dryRun ?? false,
          concurrency: deps.databaseKind === 'postgres' ? 2 : 1,
          worker: `${os.hostname()}:${process.pid}:http`,
        });
        return { ...summary, amount: formatYuan(fen(summary.amountFen)) };
      },
    );

    app.post<{ Body: { period: string; stationId?: number } }>(
      '/billing/releases',
      {
        schema: {
          summary: 'Release (电费发行) a period’s reviewed drafts: numbers, due dates, receivables',
          tags: ['billing'],
          body: {
            type: 'object',
            required: ['period'],
            additionalProperties: false,
            properties: { period: PERIOD, stationId: { type: 'integer' } },
          },
          response: {
            200: {
              type: 'object',
              properties: {
                period: { type: 'string' },
                stationId: { type: ['integer', 'null'] },
                released: { type: 'integer' },
                amount: { type: 'string' },
              },
            },
            ...errorResponses,
          },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        requirePermission(principal, 'billing.release');
        const stationId = stationScope(principal, request.body.stationId);
        const summary = await releaseBills(deps.db, {
          period: request.body.period as Period,
          ...(stationId !== undefined ? { stationId } : {}),
          releasedOn: deps.clock.today(),
          actor: principal,
        });
        return { ...summary, amount: formatYuan(fen(summary.amountFen)) };
      },
    );
  };
}
