import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../db/schema.js';

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

/** Records a new run and its pending partitions (inside the caller's transaction). */
export async function createRun(
  trx: Transaction<DB>,
  run: {
    readonly runKey: string;
    readonly kind: string;
    readonly params: unknown;
    readonly partitions: number;
  },
): Promise<void> {
  await trx
    .insertInto('job_run')
    .values({
      run_key: run.runKey,
      kind: run.kind,
      params: JSON.stringify(run.params),
      status: 'running',
      partitions: run.partitions,
    })
    .execute();
  // Inserted in slices of 1,000: a million-customer run has a few hundred partitions at most,
  // but the statement size stays bounded whatever the partition size.
  for (let start = 0; start < run.partitions; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, run.partitions - start) }, (_, k) => ({
      run_key: run.runKey,
      partition_no: start + k,
      status: 'pending' as const,
    }));
    await trx.insertInto('job_partition').values(rows).execute();
  }
}
