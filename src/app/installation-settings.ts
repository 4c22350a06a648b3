import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/** The setting the demo county writes when it creates its staff: this database is a demonstration. */
export const DEMO_SETTING = 'demo';

/** Marks the database as the demo county, in the caller's transaction (the one writing its staff). */
export async function markDemoDatabase(executor: Kysely<DB>): Promise<void> {
  await executor
    .insertInto('installation_setting')
    .values({ key: DEMO_SETTING, value: JSON.stringify(true) })
    .onConflict((conflict) => conflict.column('key').doNothing())
    .execute();
}

/** Whether the database holds the demo county (published demo passwords are accepted only there). */
export async function isDemoDatabase(db: Kysely<DB>): Promise<boolean> {
  const row = await db
    .selectFrom('installation_setting')
    .select('value')
    .where('key', '=', DEMO_SETTING)
    .executeTakeFirst();
  return row?.value === true;
}
