import os from 'node:os';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
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
import { AnyObject, Nullable, StringEnum, errorResponses } from '../schemas.js';
import { type ServerDeps, requirePrincipal } from '../server.js';

const PERIOD = Type.String({ pattern: '^[0-9]{4}-(0[1-9]|1[0-2])$' });
const LINE = Type.Object({
  code: Type.Optional(Type.String()),
  kwh: Type.Optional(Nullable(Type.String())),
  price: Type.Optional(Nullable(Type.String())),
  amount: Type.Optional(Type.String()),
});

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
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/customers/:customerNo/bills',
      {
        schema: {
          summary: 'A customer’s bills with lines, numbers and due dates (newest first)',
          tags: ['billing'],
          params: Type.Object({ customerNo: Type.String({ pattern: '^[0-9]{6,20}$' }) }),
          querystring: Type.Object(
            { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 120, default: 24 })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  billId: Type.Optional(Type.Integer()),
                  period: Type.Optional(Type.String()),
                  revision: Type.Optional(Type.Integer()),
                  status: Type.Optional(StringEnum(['draft', 'released'])),
                  billNo: Type.Optional(Nullable(Type.String())),
                  releasedOn: Type.Optional(Nullable(Type.String())),
                  dueOn: Type.Optional(Nullable(Type.String())),
                  kwh: Type.Optional(Type.String()),
                  amount: Type.Optional(Type.String()),
                  lines: Type.Optional(Type.Immutable(Type.Array(LINE))),
                }),
              ),
            ),
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

    app.get(
      '/customers/:customerNo/bills/:period/pdf',
      {
        schema: {
          summary: 'A customer’s bill for a period as a PDF (电费通知单)',
          tags: ['billing'],
          params: Type.Object({ customerNo: Type.String({ pattern: '^[0-9]{6,20}$' }), period: PERIOD }),
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

    app.get(
      '/areas/:areaCode/bill-list.pdf',
      {
        schema: {
          summary: 'A transformer area’s printable bill list for rural electricians (台区电费清单)',
          tags: ['billing'],
          params: Type.Object({ areaCode: Type.String({ pattern: '^[A-Z0-9-]{2,32}$' }) }),
          querystring: Type.Object({ period: PERIOD }, { additionalProperties: false }),
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

    app.get(
      '/read-exceptions',
      {
        schema: {
          summary: 'The read exception queue of a period (异常工单): open holds first',
          tags: ['billing'],
          querystring: Type.Object(
            {
              period: PERIOD,
              stationId: Type.Optional(Type.Integer()),
              open: Type.Optional(Type.Boolean({ description: 'only unresolved holds' })),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  customerNo: Type.Optional(Type.String()),
                  name: Type.Optional(Type.String()),
                  stationName: Type.Optional(Type.String()),
                  transformerAreaName: Type.Optional(Type.String()),
                  period: Type.Optional(Type.String()),
                  code: Type.Optional(Type.String()),
                  severity: Type.Optional(Type.String()),
                  detail: Type.Optional(AnyObject()),
                  resolution: Type.Optional(Nullable(Type.String())),
                  billed: Type.Optional(Type.Boolean()),
                }),
              ),
            ),
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

    app.get(
      '/reads/quality',
      {
        schema: {
          summary: 'Actual-read rate (实抄率) and read error rate per station or meter reader',
          tags: ['billing'],
          querystring: Type.Object(
            { period: PERIOD, by: Type.Optional(StringEnum(['station', 'reader'], { default: 'station' })) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Immutable(
              Type.Array(
                Type.Object({
                  key: Type.Optional(Type.String()),
                  name: Type.Optional(Type.String()),
                  stationName: Type.Optional(Type.String()),
                  due: Type.Optional(Type.Integer()),
                  actual: Type.Optional(Type.Integer()),
                  estimated: Type.Optional(Type.Integer()),
                  missing: Type.Optional(Type.Integer()),
                  errors: Type.Optional(Type.Integer()),
                  actualReadRate: Type.Optional(Type.Number()),
                  errorRate: Type.Optional(Type.Number()),
                }),
              ),
            ),
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

    app.post(
      '/read-exceptions/resolve',
      {
        schema: {
          summary:
            'A billing checker confirms, estimates or corrects a held read; a conflicting read is confirmed or rejected',
          tags: ['billing'],
          body: Type.Object(
            {
              customerNo: Type.String({ pattern: '^[0-9]{6,20}$' }),
              period: PERIOD,
              code: Type.String({ minLength: 1, maxLength: 64 }),
              resolution: StringEnum(['confirmed', 'estimated', 'corrected', 'rejected']),
              method: Type.Optional(StringEnum(['average_recent', 'same_month_last_year'])),
              meterNo: Type.Optional(Type.String()),
              values: Type.Optional({
                type: 'object',
                additionalProperties: { type: 'string', pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' },
              } as const),
              note: Type.Optional(Type.String({ maxLength: 500 })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({ readsAdded: Type.Optional(Type.Integer()) }),
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

    app.post(
      '/payments',
      {
        schema: {
          summary:
            'A cashier or collector posts a payment (坐收 / 走收): late fees and oldest bills first, the rest prepaid',
          tags: ['payments'],
          body: Type.Object(
            {
              customerNo: Type.String({ pattern: '^[0-9]{6,20}$' }),
              amount: Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' }),
              receiptKey: Type.String({
                minLength: 1,
                maxLength: 64,
                description: 'posting the same key again returns the first result',
              }),
              source: Type.Optional(StringEnum(['counter', 'collector'], { default: 'counter' })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              receiptNo: Type.Optional(Type.String()),
              customerNo: Type.Optional(Type.String()),
              amount: Type.Optional(Type.String()),
              prepaid: Type.Optional(Type.String()),
              replayed: Type.Optional(Type.Boolean()),
              allocations: Type.Optional(
                Type.Immutable(
                  Type.Array(
                    Type.Object({
                      billId: Type.Optional(Type.Integer()),
                      period: Type.Optional(Type.String()),
                      kind: Type.Optional(Type.String()),
                      amount: Type.Optional(Type.String()),
                    }),
                  ),
                ),
              ),
            }),
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

    app.post(
      '/payments/reverse',
      {
        schema: {
          summary: 'Reverse (冲正) one of your own counter or collector payments by new entries',
          tags: ['payments'],
          body: Type.Object(
            {
              receiptKey: Type.String({ minLength: 1, maxLength: 64 }),
              reason: Type.String({ minLength: 2, maxLength: 500 }),
              source: Type.Optional(StringEnum(['counter', 'collector'], { default: 'counter' })),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              receiptNo: Type.Optional(Type.String()),
              reversedAt: Type.Optional(Type.String({ format: 'date-time' })),
            }),
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

    app.post(
      '/billing/runs',
      {
        schema: {
          summary: 'Run billing (电费核算) for a period: drafts, with held reads queued',
          tags: ['billing'],
          body: Type.Object(
            {
              period: PERIOD,
              stationId: Type.Optional(Type.Integer()),
              dryRun: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              runKey: Type.Optional(Type.String()),
              period: Type.Optional(Type.String()),
              stationId: Type.Optional(Nullable(Type.Integer())),
              dryRun: Type.Optional(Type.Boolean()),
              billed: Type.Optional(Type.Integer()),
              held: Type.Optional(Type.Integer()),
              failed: Type.Optional(Type.Integer()),
              amount: Type.Optional(Type.String()),
              exceptions: Type.Optional({
                type: 'object',
                additionalProperties: { type: 'integer' },
              } as const),
            }),
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

    app.post(
      '/billing/releases',
      {
        schema: {
          summary: 'Release (电费发行) a period’s reviewed drafts: numbers, due dates, receivables',
          tags: ['billing'],
          body: Type.Object(
            { period: PERIOD, stationId: Type.Optional(Type.Integer()) },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              period: Type.Optional(Type.String()),
              stationId: Type.Optional(Nullable(Type.Integer())),
              released: Type.Optional(Type.Integer()),
              amount: Type.Optional(Type.String()),
            }),
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
