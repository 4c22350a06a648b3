import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { chineseUppercaseYuan, fen, formatYuan } from '../../domain/money.js';
import { customerInScope } from '../customer-in-scope.js';
import { AppError } from '../errors.js';
import { type Principal, requirePermission } from '../principal.js';

/** The electronic receipt (电子收费凭证) of one payment, as a document. */
export interface ReceiptDocument {
  readonly county: string;
  readonly receiptNo: string;
  readonly customer: { readonly customerNo: string; readonly name: string; readonly address: string };
  readonly paidAt: Date;
  readonly businessDate: string;
  readonly channel: string;
  readonly operator: string | null;
  readonly amount: string;
  readonly amountInWords: string;
  readonly lines: readonly {
    readonly billNo: string;
    readonly period: string;
    readonly item: string;
    readonly amount: string;
  }[];
  readonly prepaid: string;
  readonly reversed: { readonly at: Date; readonly reason: string } | null;
}

const CHANNEL_NAMES: Readonly<Record<string, string>> = {
  counter: '营业厅坐收',
  collector: '台区经理走收',
  deposit: '押金抵缴',
};

/**
 * A payment's receipt, from the journal's own rows: what was paid, how and when, what it settled
 * (each bill's electricity charge and late fee) and what became prepaid; a reversed payment says
 * so. Errors: forbidden, not_found.
 */
export async function receiptDocument(
  db: Kysely<DB>,
  principal: Principal,
  customerNo: string,
  receiptNo: string,
): Promise<ReceiptDocument> {
  requirePermission(principal, 'customer.read');
  const customer = await customerInScope(db, principal, customerNo);
  const payment = await sql<{
    payment_id: number;
    amount_fen: number;
    paid_at: Date;
    business_date: string;
    channel_code: string;
    channel_name: string | null;
    operator: string | null;
    name: string;
    address: string;
    reversed_at: Date | null;
    reason: string | null;
  }>`
    select y.payment_id, y.amount_fen, y.paid_at, y.business_date, y.channel_code, ch.name as channel_name,
      s.name as operator, c.name, c.address, v.reversed_at, v.reason
    from payment y
    join customer c on c.customer_id = y.customer_id
    left join channel ch on ch.channel_code = y.channel_code
    left join staff s on s.staff_id = y.operator_staff_id
    left join payment_reversal v on v.customer_id = y.customer_id and v.payment_id = y.payment_id
    where y.customer_id = ${customer.customerId} and y.receipt_no = ${receiptNo}`.execute(db);
  const row = payment.rows[0];
  if (!row) throw new AppError('not_found', `no receipt ${receiptNo} for customer ${customerNo}`);
  const [allocations, county] = await Promise.all([
    sql<{ bill_no: string | null; period: string | null; kind: string; amount_fen: number }>`
      select r.bill_no, b.period, a.kind, a.amount_fen from allocation a
      join payment y on y.customer_id = a.customer_id and y.payment_id = a.payment_id
      left join bill b on b.customer_id = a.customer_id and b.bill_id = a.bill_id
      left join bill_release r on r.customer_id = a.customer_id and r.bill_id = a.bill_id
      where a.customer_id = ${customer.customerId} and a.payment_id = ${row.payment_id}
        and a.journal_entry_id = y.journal_entry_id
      order by a.allocation_id`.execute(db),
    db.selectFrom('org_unit').select('name').where('kind', '=', 'county').executeTakeFirst(),
  ]);
  const amountFen = fen(Number(row.amount_fen));
  return {
    county: county?.name ?? '',
    receiptNo,
    customer: { customerNo: customer.customerNo, name: row.name, address: row.address },
    paidAt: row.paid_at,
    businessDate: row.business_date,
    channel: CHANNEL_NAMES[row.channel_code] ?? row.channel_name ?? row.channel_code,
    operator: row.operator,
    amount: formatYuan(amountFen),
    amountInWords: chineseUppercaseYuan(amountFen),
    lines: allocations.rows
      .filter((a) => a.kind !== 'prepaid')
      .map((a) => ({
        billNo: a.bill_no ?? '',
        period: a.period ?? '',
        item: a.kind === 'late_fee' ? '电费违约金' : '电费',
        amount: formatYuan(fen(Number(a.amount_fen))),
      })),
    prepaid: formatYuan(
      fen(
        allocations.rows
          .filter((a) => a.kind === 'prepaid')
          .reduce((sum, a) => sum + Number(a.amount_fen), 0),
      ),
    ),
    reversed: row.reversed_at ? { at: row.reversed_at, reason: row.reason ?? '' } : null,
  };
}
