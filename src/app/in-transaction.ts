import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../adapters/db/schema.js';

/**
 * Runs `work` in a transaction: a new one, or the caller's when `db` already is one, so that a
 * use case can be composed into a larger unit of work (a reconciliation case posting a payment).
 */
export function inTransaction<T>(db: Kysely<DB>, work: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db as Transaction<DB>);
  return db.transaction().execute(work);
}
