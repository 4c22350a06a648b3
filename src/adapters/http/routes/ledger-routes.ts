import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { applyDeposit, receiveDeposit } from '../../../app/customer-deposits.js';
import { customerInScope } from '../../../app/customer-in-scope.js';
import { AppError } from '../../../app/errors.js';
import {
  type LedgerRequestView,
  decideLedgerRequest,
  listLedgerRequests,
  payOutRefund,
  requestLedgerAction,
} from '../../../app/ledger-requests.js';
import { listNotifications } from '../../../app/notifications.js';
import {
  type HoldScope,
  type PolicyHoldView,
  approvePolicyHold,
  listPolicyHolds,
  requestPolicyHold,
} from '../../../app/policy-holds.js';
import { requirePermission } from '../../../app/principal.js';
import { type LocalDate, parseLocalDate } from '../../../domain/local-date.js';
import { type Fen, formatYuan, parseYuan } from '../../../domain/money.js';
import { receiptDocument } from '../../../app/queries/receipt-document.js';
import { renderReceiptPdf } from '../../files/bill-pdf.js';
import { findPdfFont } from '../../files/pdf-font.js';
import { AnyObject, Nullable, StringEnum, errorResponses } from '../schemas.js';
import { type ServerDeps, requirePrincipal } from '../server.js';

const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';
const DATE = Type.String({ pattern: DATE_PATTERN });
const YUAN_PATTERN = '^[0-9]{1,12}(\\.[0-9]{1,2})?$';
const YUAN = Type.String({ pattern: YUAN_PATTERN });
const REASON = Type.String({ minLength: 2, maxLength: 500 });
const REQUEST_PARAMS = Type.Object({ customerNo: Type.String(), requestId: Type.Integer({ minimum: 1 }) });

const YUAN_OUT = Type.String({ description: 'yuan, 2 decimals' });

const policyHoldSchema = Type.Object({
  holdId: Type.Integer(),
  scopeKind: Type.String(),
  scopeValue: Type.String(),
  startsOn: Type.String({ format: 'date' }),
  endsOn: Type.String({ format: 'date' }),
  noLateFee: Type.Boolean(),
  noDisconnection: Type.Boolean(),
  reason: Type.String(),
  source: Nullable(Type.String()),
  requestedBy: Nullable(Type.Integer()),
  approvedBy: Nullable(Type.Integer()),
  approvedAt: Nullable(Type.String({ format: 'date-time' })),
});

const ledgerRequestSchema = Type.Object({
  requestId: Type.Integer(),
  customerNo: Type.String(),
  kind: StringEnum(['late_fee_waiver', 'write_off', 'refund']),
  billNo: Nullable(Type.String()),
  refundFrom: Nullable(StringEnum(['prepaid', 'deposit'])),
  reason: Type.String(),
  requestedBy: Nullable(Type.Integer()),
  status: StringEnum(['requested', 'approved', 'rejected', 'paid_out']),
  amount: YUAN_OUT,
  settled: Nullable(Type.String({ description: 'yuan the approval moved' })),
});

const depositReceivedSchema = Type.Object({
  receiptNo: Type.String(),
  customerNo: Type.String(),
  amountFen: Type.Integer(),
  depositBalanceFen: Type.Integer(),
  replayed: Type.Boolean(),
  amount: YUAN_OUT,
  depositBalance: YUAN_OUT,
});

const depositAppliedSchema = Type.Object({
  paymentId: Type.Integer(),
  customerId: Type.Integer(),
  receiptNo: Type.String(),
  customerNo: Type.String(),
  amountFen: Type.Integer(),
  allocations: Type.Immutable(
    Type.Array(
      Type.Object({
        billId: Type.Integer(),
        kind: StringEnum(['principal', 'late_fee']),
        amountFen: Type.Integer(),
        period: Type.String(),
        billNo: Type.String(),
      }),
    ),
  ),
  prepaidFen: Type.Integer(),
  prepaidBalanceFen: Type.Integer(),
  replayed: Type.Boolean(),
  amount: YUAN_OUT,
});

const notificationSchema = Type.Object({
  notificationId: Type.Integer(),
  kind: StringEnum(['payment_receipt', 'payment_reversed', 'refund_paid', 'write_off', 'late_fee_waived']),
  objectId: Type.String(),
  payload: AnyObject(),
  createdAt: Type.String({ format: 'date-time' }),
  delivered: Type.Boolean(),
});

function date(value: string | undefined, field: string, today: LocalDate): LocalDate {
  if (value === undefined) return today;
  const parsed = parseLocalDate(value);
  if (!parsed) throw new AppError('validation_failed', `${field}: not a calendar date`);
  return parsed;
}

function amount(value: string | undefined, field: string): Fen | undefined {
  if (value === undefined) return undefined;
  const parsed = parseYuan(value);
  if (parsed === null || parsed <= 0)
    throw new AppError('validation_failed', `${field}: must be more than 0.00`);
  return parsed;
}

function shape(view: LedgerRequestView) {
  const { amountFen, settledFen, ...rest } = view;
  return {
    ...rest,
    amount: formatYuan(amountFen),
    settled: settledFen === null ? null : formatYuan(settledFen),
  };
}

/** A policy hold as the API shows it (the approval time as an ISO timestamp). */
function holdView(view: PolicyHoldView) {
  return { ...view, approvedAt: view.approvedAt?.toISOString() ?? null };
}

/**
 * Policy holds, the two-person ledger actions (late-fee waivers, write-offs, refunds), deposits
 * and a customer's queued notices. Approvals are separate requests by a second person.
 */
export function ledgerRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/policy-holds',
      {
        schema: {
          summary: 'Policy holds (欠费不停供) visible to you, newest first',
          tags: ['ledger'],
          querystring: Type.Object({ on: Type.Optional(DATE) }, { additionalProperties: false }),
          response: { 200: Type.Array(policyHoldSchema), ...errorResponses },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        requirePermission(principal, 'customer.read');
        const on = request.query.on ? date(request.query.on, 'on', deps.clock.today()) : undefined;
        return (await listPolicyHolds(deps.db, principal, { activeOn: on })).map(holdView);
      },
    );

    app.post(
      '/policy-holds',
      {
        schema: {
          summary: 'Ask for a policy hold: no late fee and/or no disconnection over a scope and dates',
          tags: ['ledger'],
          body: Type.Object(
            {
              scope: Type.Object(
                {
                  kind: StringEnum(['all', 'category', 'station', 'customer']),
                  value: Type.Optional(
                    Type.String({
                      minLength: 1,
                      maxLength: 64,
                      description: 'category, station code or customer number',
                    }),
                  ),
                },
                { additionalProperties: false },
              ),
              startsOn: DATE,
              endsOn: DATE,
              noLateFee: Type.Boolean(),
              noDisconnection: Type.Boolean(),
              reason: REASON,
              source: Type.Optional(Type.String({ maxLength: 200 })),
            },
            { additionalProperties: false },
          ),
          response: { 201: policyHoldSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        const { scope, ...body } = request.body;
        const value = scope.value ?? '';
        if (scope.kind !== 'all' && !value) throw new AppError('validation_failed', 'scope.value: required');
        const held: HoldScope =
          scope.kind === 'all'
            ? { kind: 'all' }
            : scope.kind === 'category'
              ? { kind: 'category', category: value }
              : scope.kind === 'station'
                ? { kind: 'station', stationCode: value }
                : { kind: 'customer', customerNo: value };
        const today = deps.clock.today();
        const view = await requestPolicyHold(deps.db, principal, {
          ...body,
          scope: held,
          startsOn: date(body.startsOn, 'startsOn', today),
          endsOn: date(body.endsOn, 'endsOn', today),
        });
        return reply.code(201).send(holdView(view));
      },
    );

    app.post(
      '/policy-holds/:holdId/approval',
      {
        schema: {
          summary: 'Approve a policy hold (a second person)',
          tags: ['ledger'],
          params: Type.Object({ holdId: Type.Integer({ minimum: 1 }) }),
          response: { 200: policyHoldSchema, ...errorResponses },
        },
      },
      async (request) =>
        holdView(await approvePolicyHold(deps.db, requirePrincipal(request), request.params.holdId)),
    );

    app.get(
      '/customers/:customerNo/ledger-requests',
      {
        schema: {
          summary: 'A customer’s waiver, write-off and refund requests with their status',
          tags: ['ledger'],
          params: Type.Object({ customerNo: Type.String() }),
          response: { 200: Type.Array(ledgerRequestSchema), ...errorResponses },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        requirePermission(principal, 'customer.read');
        const customer = await customerInScope(deps.db, principal, request.params.customerNo);
        return (await listLedgerRequests(deps.db, customer.customerId, customer.customerNo)).map(shape);
      },
    );

    app.post(
      '/customers/:customerNo/ledger-requests',
      {
        schema: {
          summary: 'Ask for a late-fee waiver (违约金减免), a write-off (坏账核销) or a refund (退费)',
          tags: ['ledger'],
          body: Type.Object(
            {
              kind: StringEnum(['late_fee_waiver', 'write_off', 'refund']),
              billNo: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
              amount: Type.Optional(
                Type.String({
                  pattern: YUAN_PATTERN,
                  description: 'waiver/write-off default: all that is open on the bill',
                }),
              ),
              refundFrom: Type.Optional(StringEnum(['prepaid', 'deposit'])),
              reason: REASON,
              asOf: Type.Optional(Type.String({ pattern: DATE_PATTERN, description: 'default: today' })),
            },
            { additionalProperties: false },
          ),
          params: Type.Object({ customerNo: Type.String() }),
          response: { 201: ledgerRequestSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const view = await requestLedgerAction(deps.db, requirePrincipal(request), {
          kind: body.kind,
          customerNo: request.params.customerNo,
          billNo: body.billNo,
          amountFen: amount(body.amount, 'amount'),
          refundFrom: body.refundFrom,
          reason: body.reason,
          asOf: date(body.asOf, 'asOf', deps.clock.today()),
        });
        return reply.code(201).send(shape(view));
      },
    );

    app.post(
      '/customers/:customerNo/ledger-requests/:requestId/decision',
      {
        schema: {
          summary: 'Approve (posts it) or reject a request; not by its requester',
          tags: ['ledger'],
          params: REQUEST_PARAMS,
          body: Type.Object(
            {
              decision: StringEnum(['approve', 'reject']),
              asOf: Type.Optional(Type.String({ pattern: DATE_PATTERN, description: 'default: today' })),
              note: Type.Optional(Type.String({ maxLength: 500 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: ledgerRequestSchema, ...errorResponses },
        },
      },
      async (request) =>
        shape(
          await decideLedgerRequest(deps.db, requirePrincipal(request), {
            customerNo: request.params.customerNo,
            requestId: request.params.requestId,
            decision: request.body.decision,
            asOf: date(request.body.asOf, 'asOf', deps.clock.today()),
            note: request.body.note,
          }),
        ),
    );

    app.post(
      '/customers/:customerNo/ledger-requests/:requestId/payout',
      {
        schema: {
          summary: 'Pay out an approved refund (bank transfer or the cashier’s cash)',
          tags: ['ledger'],
          params: REQUEST_PARAMS,
          body: Type.Object(
            {
              method: StringEnum(['bank_transfer', 'cash']),
              bankAccount: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
              paidOn: Type.Optional(Type.String({ pattern: DATE_PATTERN, description: 'default: today' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: ledgerRequestSchema, ...errorResponses },
        },
      },
      async (request) =>
        shape(
          await payOutRefund(deps.db, requirePrincipal(request), {
            customerNo: request.params.customerNo,
            requestId: request.params.requestId,
            method: request.body.method,
            bankAccount: request.body.bankAccount,
            paidOn: date(request.body.paidOn, 'paidOn', deps.clock.today()),
          }),
        ),
    );

    app.post(
      '/customers/:customerNo/deposits',
      {
        schema: {
          summary: 'Receive a deposit (押金); the receipt number makes it idempotent',
          tags: ['ledger'],
          body: Type.Object(
            {
              receiptNo: Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' }),
              amount: YUAN,
              method: StringEnum(['cash', 'bank_transfer']),
              bankAccount: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
              receivedOn: Type.Optional(
                Type.String({ pattern: DATE_PATTERN, description: 'default: today' }),
              ),
            },
            { additionalProperties: false },
          ),
          params: Type.Object({ customerNo: Type.String() }),
          response: { 200: depositReceivedSchema, 201: depositReceivedSchema, ...errorResponses },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const result = await receiveDeposit(deps.db, requirePrincipal(request), {
          customerNo: request.params.customerNo,
          receiptKey: body.receiptNo,
          amountFen: amount(body.amount, 'amount')!,
          method: body.method,
          bankAccount: body.bankAccount,
          receivedOn: date(body.receivedOn, 'receivedOn', deps.clock.today()),
        });
        return reply.code(result.replayed ? 200 : 201).send({
          ...result,
          amount: formatYuan(result.amountFen),
          depositBalance: formatYuan(result.depositBalanceFen),
        });
      },
    );

    app.post(
      '/customers/:customerNo/deposit-applications',
      {
        schema: {
          summary: 'Apply the deposit to what the customer owes (through the payment path)',
          tags: ['ledger'],
          body: Type.Object(
            {
              key: Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' }),
              amount: Type.Optional(
                Type.String({
                  pattern: YUAN_PATTERN,
                  description: 'default: what is due, up to the deposit',
                }),
              ),
              businessDate: Type.Optional(
                Type.String({ pattern: DATE_PATTERN, description: 'default: today' }),
              ),
            },
            { additionalProperties: false },
          ),
          params: Type.Object({ customerNo: Type.String() }),
          response: { 200: depositAppliedSchema, ...errorResponses },
        },
      },
      async (request) => {
        const result = await applyDeposit(deps.db, requirePrincipal(request), {
          customerNo: request.params.customerNo,
          key: request.body.key,
          amountFen: amount(request.body.amount, 'amount'),
          businessDate: date(request.body.businessDate, 'businessDate', deps.clock.today()),
        });
        return { ...result, amount: formatYuan(result.amountFen) };
      },
    );

    app.get(
      '/customers/:customerNo/payments/:receiptNo/receipt.pdf',
      {
        schema: {
          summary: 'A payment’s electronic receipt as a PDF (电子收费凭证); a reversed payment says so',
          tags: ['ledger'],
          params: Type.Object({
            customerNo: Type.String({ pattern: '^[0-9]{6,20}$' }),
            receiptNo: Type.String({ pattern: '^[A-Z0-9]{4,40}$' }),
          }),
          produces: ['application/pdf'],
        },
      },
      async (request, reply) => {
        const document = await receiptDocument(
          deps.db,
          requirePrincipal(request),
          request.params.customerNo,
          request.params.receiptNo,
        );
        const pdf = await renderReceiptPdf(
          document,
          findPdfFont(deps.pdfFontPath),
          deps.timeZone ?? 'Asia/Shanghai',
        );
        return reply
          .type('application/pdf')
          .header('content-disposition', `inline; filename="receipt-${request.params.receiptNo}.pdf"`)
          .send(pdf);
      },
    );

    app.get(
      '/customers/:customerNo/notifications',
      {
        schema: {
          summary: 'Notices queued for the customer (payment receipts, refunds, waivers), newest first',
          tags: ['ledger'],
          params: Type.Object({ customerNo: Type.String() }),
          response: { 200: Type.Array(notificationSchema), ...errorResponses },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        requirePermission(principal, 'customer.read');
        const customer = await customerInScope(deps.db, principal, request.params.customerNo);
        return (await listNotifications(deps.db, customer.customerId)).map((notice) => ({
          ...notice,
          createdAt: notice.createdAt.toISOString(),
        }));
      },
    );
  };
}
