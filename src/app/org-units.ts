import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { AppError } from './errors.js';

/**
 * The supply station people name by its org unit code (QH01): the one rule by which a code given
 * on the command line becomes the station's id. An unknown code (or one of a county or team) is
 * a not_found naming the code.
 */
export async function stationIdByCode(db: Kysely<DB>, code: string): Promise<number> {
  const row = await db
    .selectFrom('org_unit')
    .select('org_unit_id')
    .where('code', '=', code)
    .where('kind', '=', 'station')
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', `station: no supply station with code ${code}`);
  return row.org_unit_id;
}
