import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import { type Period, addMonths } from '../../domain/local-date.js';

/** How far the demo county's history is: its months are billed, released and collected in order. */
export interface DemoProgress {
  /** Whether this database holds the demo county at all. */
  readonly demo: boolean;
  readonly monthsTotal: number;
  /** Months released so far (each is complete and usable: billed, checked, released, collected). */
  readonly monthsReady: number;
  /** The latest released month, or null before the first. */
  readonly latestReady: Period | null;
  /** True once the whole history is done. */
  readonly complete: boolean;
}

/**
 * The demo history's progress, read from the data itself (so any process can ask): the months
 * with released bills, oldest first. A month counts once its bills are released; the history is
 * complete when its job run is marked done.
 */
export async function demoProgress(db: Kysely<DB>): Promise<DemoProgress> {
  const demo = await db.selectFrom('demo_county').selectAll().executeTakeFirst();
  if (!demo) return { demo: false, monthsTotal: 0, monthsReady: 0, latestReady: null, complete: false };
  const marker = await db
    .selectFrom('job_run')
    .select('status')
    .where('run_key', '=', `demo-billing:seed=${demo.seed}:until=${demo.last_period}`)
    .executeTakeFirst();
  const first = demo.first_period as Period;
  if (marker?.status === 'done') {
    return {
      demo: true,
      monthsTotal: demo.months,
      monthsReady: demo.months,
      latestReady: demo.last_period as Period,
      complete: true,
    };
  }
  // Months are released in order: probe each (one index lookup per month) until the first gap.
  let ready = 0;
  for (let k = 0; k < demo.months; k++) {
    const released = await sql<{ found: boolean }>`
      select exists (
        select 1 from bill b join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
        where b.period = ${addMonths(first, k)}
      ) as found`.execute(db);
    if (!released.rows[0]?.found) break;
    ready = k + 1;
  }
  return {
    demo: true,
    monthsTotal: demo.months,
    monthsReady: ready,
    latestReady: ready > 0 ? addMonths(first, ready - 1) : null,
    complete: false,
  };
}
