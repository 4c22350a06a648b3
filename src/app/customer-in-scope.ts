import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { AppError } from './errors.js';
import type { Principal } from './principal.js';
import { isInScope } from './ledger/scope.js';

export interface ScopedCustomer {
  readonly customerId: number;
  readonly customerNo: string;
  readonly category: string;
  readonly dueRule: string;
}

/**
 * A customer by customer number, if it lies in the principal's scope. Outside the scope looks
 * the same as absent, so scope cannot be probed for customer numbers. Errors: not_found.
 */
export async function customerInScope(
  executor: Kysely<DB>,
  principal: Principal,
  customerNo: string,
): Promise<ScopedCustomer> {
  const row = await executor
    .selectFrom('customer_number')
    .innerJoin('customer', 'customer.customer_id', 'customer_number.customer_id')
    .innerJoin('org_unit', 'org_unit.org_unit_id', 'customer.station_id')
    .select([
      'customer.customer_id',
      'customer.customer_no',
      'customer.category',
      'customer.due_rule',
      'org_unit.path',
    ])
    .where('customer_number.customer_no', '=', customerNo)
    .executeTakeFirst();
  if (!row || !isInScope(principal, row.path))
    throw new AppError('not_found', `customer ${customerNo} not found`);
  return {
    customerId: row.customer_id,
    customerNo: row.customer_no,
    category: row.category,
    dueRule: row.due_rule,
  };
}
