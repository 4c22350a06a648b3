import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { cashOnHand, closeCounterShift, recordCashDeposit } from '../../../app/cash-deposits.js';
import { AppError } from '../../../app/errors.js';
import { parseLocalDate } from '../../../domain/local-date.js';
import { parseYuan } from '../../../domain/money.js';
import { Nullable, StringEnum, errorResponses } from '../schemas.js';
import { type ServerDeps, requirePrincipal } from '../server.js';

const YUAN = Type.String({ description: 'yuan, 2 decimals' });

const depositResultSchema = Type.Object({
  depositId: Type.Integer(),
  staffLogin: Type.String(),
  amount: YUAN,
  payments: Type.Integer({ description: 'undeposited payments the slip cleared' }),
  cashOnHand: Type.String({ description: 'yuan the staff member still holds after this slip' }),
  replayed: Type.Boolean(),
});

const shiftCloseSchema = Type.Object({
  staffLogin: Type.String(),
  businessDate: Type.String({ format: 'date' }),
  payments: Type.Integer(),
  systemTotal: YUAN,
  counted: YUAN,
  difference: Type.String({ description: 'counted minus the system total: negative is a shortage (短款)' }),
  balanced: Type.Boolean(),
  replayed: Type.Boolean(),
});

const cashHolderSchema = Type.Object({
  staffLogin: Type.String(),
  name: Type.String(),
  kind: StringEnum(['collector', 'counter']),
  stationId: Type.Integer(),
  cashOnHand: YUAN,
  undepositedPayments: Type.Integer(),
  oldestUndeposited: Nullable(Type.String({ format: 'date' })),
  overdue: Type.String({ description: 'yuan past its deposit deadline (the next working day)' }),
  alert: Type.Boolean(),
});

/** Cash control (解款): deposits by collectors and cashiers, and who holds how much since when. */
export function cashRoutes(deps: ServerDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/cash-deposits',
      {
        schema: {
          summary: 'Record a bank deposit slip (解款): clears the depositor’s oldest undeposited cash',
          tags: ['cash'],
          body: Type.Object(
            {
              staffLogin: Type.Optional(
                Type.String({ minLength: 1, maxLength: 64, description: 'default: yourself' }),
              ),
              slipNo: Type.String({ pattern: '^[A-Za-z0-9_-]{1,40}$' }),
              bankAccount: Type.String({ minLength: 1, maxLength: 64 }),
              amount: Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' }),
              depositedOn: Type.Optional(
                Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'default: today' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: depositResultSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const amountFen = parseYuan(request.body.amount);
        if (amountFen === null || amountFen <= 0)
          throw new AppError('validation_failed', 'amount: must be more than 0.00');
        const depositedOn = request.body.depositedOn
          ? parseLocalDate(request.body.depositedOn)
          : deps.clock.today();
        if (!depositedOn) throw new AppError('validation_failed', 'depositedOn: not a calendar date');
        return recordCashDeposit(deps.db, principal, {
          staffLogin: request.body.staffLogin ?? principal.login,
          slipNo: request.body.slipNo,
          bankAccount: request.body.bankAccount,
          amountFen,
          depositedOn,
        });
      },
    );

    app.post(
      '/shift-closes',
      {
        schema: {
          summary: 'Close a cashier’s day (日清日结): counted cash against the day’s counter payments',
          tags: ['cash'],
          body: Type.Object(
            {
              staffLogin: Type.Optional(
                Type.String({ minLength: 1, maxLength: 64, description: 'default: yourself' }),
              ),
              businessDate: Type.Optional(
                Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'default: today' }),
              ),
              counted: Type.String({ pattern: '^[0-9]{1,12}(\\.[0-9]{1,2})?$' }),
              note: Type.Optional(Type.String({ maxLength: 500 })),
            },
            { additionalProperties: false },
          ),
          response: { 200: shiftCloseSchema, ...errorResponses },
        },
      },
      async (request) => {
        const principal = requirePrincipal(request);
        const countedFen = parseYuan(request.body.counted);
        if (countedFen === null)
          throw new AppError('validation_failed', 'counted: yuan with at most 2 decimals');
        const businessDate = request.body.businessDate
          ? parseLocalDate(request.body.businessDate)
          : deps.clock.today();
        if (!businessDate) throw new AppError('validation_failed', 'businessDate: not a calendar date');
        return closeCounterShift(deps.db, principal, {
          staffLogin: request.body.staffLogin ?? principal.login,
          businessDate,
          countedFen,
          note: request.body.note,
        });
      },
    );

    app.get(
      '/cash-on-hand',
      {
        schema: {
          summary:
            'Cash held by each collector and cashier, oldest undeposited day and overdue cash (alerts)',
          tags: ['cash'],
          response: { 200: Type.Array(cashHolderSchema), ...errorResponses },
        },
      },
      async (request) => cashOnHand(deps.db, requirePrincipal(request), deps.clock.today()),
    );
  };
}
