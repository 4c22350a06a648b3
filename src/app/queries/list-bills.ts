import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Fen, fen, formatYuan } from '../../domain/money.js';
import { customerInScope } from '../customer-in-scope.js';
import { type Principal, requirePermission } from '../principal.js';

export interface BillView {
  readonly billId: number;
  readonly period: string;
  readonly revision: number;
  readonly status: 'draft' | 'released';
  readonly billNo: string | null;
  readonly releasedOn: string | null;
  readonly dueOn: string | null;
  readonly kwh: string;
  readonly amount: string;
  readonly amountFen: Fen;
  readonly lines: readonly {
    readonly code: string;
    readonly kwh: string | null;
    readonly price: string | null;
    readonly amount: string;
  }[];
}

/** A customer's bills, newest first, with lines and release data. Errors: forbidden, not_found. */
export async function listCustomerBills(
  db: Kysely<DB>,
  principal: Principal,
  customerNo: string,
  limit: number,
): Promise<BillView[]> {
  requirePermission(principal, 'customer.read');
  const { customerId } = await customerInScope(db, principal, customerNo);
  const bills = await db
    .selectFrom('bill')
    .leftJoin('bill_release', (join) =>
      join
        .onRef('bill_release.customer_id', '=', 'bill.customer_id')
        .onRef('bill_release.bill_id', '=', 'bill.bill_id'),
    )
    .select([
      'bill.bill_id',
      'bill.period',
      'bill.revision',
      'bill.kwh_total',
      'bill.amount_fen',
      'bill_release.bill_no',
      'bill_release.released_on',
      'bill_release.due_on',
    ])
    .where('bill.customer_id', '=', customerId)
    .orderBy('bill.period', 'desc')
    .orderBy('bill.revision', 'desc')
    .limit(limit)
    .execute();
  const lines = bills.length
    ? await db
        .selectFrom('bill_line')
        .selectAll()
        .where('customer_id', '=', customerId)
        .where(
          'bill_id',
          'in',
          bills.map((bill) => bill.bill_id),
        )
        .orderBy('line_no')
        .execute()
    : [];
  return bills.map((bill) => ({
    billId: bill.bill_id,
    period: bill.period,
    revision: bill.revision,
    status: bill.bill_no ? 'released' : 'draft',
    billNo: bill.bill_no,
    releasedOn: bill.released_on,
    dueOn: bill.due_on,
    kwh: bill.kwh_total,
    amount: formatYuan(fen(bill.amount_fen)),
    amountFen: fen(bill.amount_fen),
    lines: lines
      .filter((line) => line.bill_id === bill.bill_id)
      .map((line) => ({
        code: line.code,
        kwh: line.kwh,
        price: line.price,
        amount: formatYuan(fen(line.amount_fen)),
      })),
  }));
}
