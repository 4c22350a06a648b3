import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../adapters/db/schema.js';

export interface PartitionOutcome {
  readonly items: number;
  /** Per-partition counts kept with the partition, summed into the run's totals. */
  readonly summary?: unknown;
}

/**
 * Works through the pending partitions of a run. Each partition is claimed with
 * FOR UPDATE SKIP LOCKED inside the transaction that does its work and marks it done, so any
 * number of loops in any number of processes can share a run, and a killed process leaves its
 * partition pending for the next one: rerunning gives the same result as one clean run.
 * Returns how many partitions this call completed.
 */
export async function runPartitions(
  db: Kysely<DB>,
  runKey: string,
  options: { readonly concurrency: number; readonly worker: string },
  work: (trx: Transaction<DB>, partitionNo: number) => Promise<PartitionOutcome>,
  onPartitionDone?: (partitionNo: number, outcome: PartitionOutcome) => void,
): Promise<number> {
  let completed = 0;
  const loop = async () => {
    for (;;) {
      const outcome = await db.transaction().execute(async (trx) => {
        const claimed = await sql<{ partition_no: number }>`
          select partition_no from job_partition
          where run_key = ${runKey} and status = 'pending'
          order by partition_no
          for update skip locked
          limit 1`.execute(trx);
        const partitionNo = claimed.rows[0]?.partition_no;
        if (partitionNo === undefined) return null;
        const result = await work(trx, partitionNo);
        await trx
          .updateTable('job_partition')
          .set({
            status: 'done',
            done_at: new Date(),
            worker: options.worker,
            items: result.items,
            ...(result.summary === undefined ? {} : { summary: JSON.stringify(result.summary) }),
          })
          .where('run_key', '=', runKey)
          .where('partition_no', '=', partitionNo)
          .execute();
        return { partitionNo, result };
      });
      if (!outcome) return;
      completed += 1;
      onPartitionDone?.(outcome.partitionNo, outcome.result);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, loop));
  return completed;
}

export async function pendingPartitions(db: Kysely<DB>, runKey: string): Promise<number> {
  const row = await db
    .selectFrom('job_partition')
    .select((eb) => eb.fn.countAll<number>().as('pending'))
    .where('run_key', '=', runKey)
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return Number(row.pending);
}
