import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.js';
import { AppError } from './errors.js';
import type { FieldSealer } from './ports.js';
import { ENCRYPTED_COLUMNS, type EncryptedColumn, KEY_CHECK_FIELD, sealedField } from './sealed-fields.js';

/** The constant whose ciphertext is the key check value. */
const KEY_CHECK_PLAIN = 'gridcollect key check';

/** SQL types of the key columns of ENCRYPTED_COLUMNS (for the batch update's record set). */
const KEY_TYPES: Readonly<Record<EncryptedColumn['key'][number], string>> = {
  customer_id: 'bigint',
  customer_account_id: 'bigint',
  channel_code: 'text',
  secret_no: 'integer',
};

function checks(checkValue: string, sealer: FieldSealer): boolean {
  try {
    return sealer.decrypt(checkValue, KEY_CHECK_FIELD) === KEY_CHECK_PLAIN;
  } catch {
    return false;
  }
}

function keyCheckValue(sealer: FieldSealer): string {
  return sealer.encrypt(KEY_CHECK_PLAIN, KEY_CHECK_FIELD);
}

function storedKeyId(checkValue: string): string {
  return checkValue.startsWith('v2:') ? checkValue.slice(3, 19) : 'v1';
}

/**
 * For a database without a key check value: one stored value of each encrypted column, which
 * must decrypt with the key (values written before row binding, "v1:", need a rotation).
 */
async function checkSampleValues(db: Kysely<DB>, sealer: FieldSealer): Promise<void> {
  for (const column of ENCRYPTED_COLUMNS) {
    const found = await sql<Record<string, string | number>>`
      select ${sql.join(column.key.map((key) => sql.ref(key)))}, ${sql.ref(column.column)} as sealed
      from ${sql.table(column.table)} where ${sql.ref(column.column)} is not null limit 1`.execute(db);
    const row = found.rows[0];
    if (!row) continue;
    if (!String(row.sealed).startsWith('v2:')) {
      throw new AppError(
        'encryption_key_unchecked',
        '数据库中的加密数据是在密钥校验之前写入的 (旧格式)。请执行一次 gridcollect keys rotate --old-key-file <当前密钥文件> --new-key-file <新密钥文件>。 ' +
          'The database holds values encrypted before key checks existed (old format). Run gridcollect keys rotate --old-key-file <current key file> --new-key-file <new key file> once (README, "Keys").',
      );
    }
    const field = sealedField(
      column,
      column.key.map((key) => row[key]!),
    );
    try {
      sealer.decrypt(String(row.sealed), field);
    } catch (error) {
      throw new AppError(
        'encryption_key_wrong',
        `配置的加密密钥 (${sealer.keyId}) 解不开数据库中的数据。 The configured encryption key (${sealer.keyId}) does not decrypt the database's data: ${(error as Error).message}.`,
        { configuredKeyId: sealer.keyId },
      );
    }
  }
}

/** The key id of the database's key check value, null for a database that has none yet (fresh). */
export async function databaseKeyId(db: Kysely<DB>): Promise<string | null> {
  const row = await db.selectFrom('encryption_key_check').select('key_id').executeTakeFirst();
  return row?.key_id ?? null;
}

/**
 * Checks the configured key against the key check value stored in the database before anything
 * is served; a database without one records it for this key (after checking that the key
 * decrypts a stored value of each encrypted column).
 * Errors: encryption_key_wrong, encryption_key_unchecked, key_rotation_unfinished.
 */
export async function verifyFieldKey(db: Kysely<DB>, sealer: FieldSealer): Promise<void> {
  let row = await db.selectFrom('encryption_key_check').selectAll().executeTakeFirst();
  if (!row) {
    await checkSampleValues(db, sealer);
    await db
      .insertInto('encryption_key_check')
      .values({ key_id: sealer.keyId, check_value: keyCheckValue(sealer) })
      .onConflict((oc) => oc.column('singleton').doNothing())
      .execute();
    row = await db.selectFrom('encryption_key_check').selectAll().executeTakeFirstOrThrow();
  }
  if (row.rotating_to_key_id !== null) {
    throw new AppError(
      'key_rotation_unfinished',
      `密钥轮换 (${row.key_id} → ${row.rotating_to_key_id}) 尚未完成; 请用相同的新旧密钥再次执行 gridcollect keys rotate。 ` +
        `A key rotation from ${row.key_id} to ${row.rotating_to_key_id} was interrupted; rerun gridcollect keys rotate with the same old and new keys to finish it.`,
    );
  }
  if (!checks(row.check_value, sealer)) {
    throw new AppError(
      'encryption_key_wrong',
      `配置的加密密钥 (${sealer.keyId}) 与数据库的密钥 (${row.key_id}) 不符; 请设置创建该数据库时所用的密钥 (GRIDCOLLECT_ENCRYPTION_KEY_FILE 或 GRIDCOLLECT_ENCRYPTION_KEY)。 ` +
        `The configured encryption key (${sealer.keyId}) is not the database's key (${row.key_id}): set GRIDCOLLECT_ENCRYPTION_KEY_FILE or GRIDCOLLECT_ENCRYPTION_KEY to the key this database was encrypted with.`,
      { configuredKeyId: sealer.keyId, databaseKeyId: row.key_id },
    );
  }
}

export interface RotationProgress {
  readonly table: string;
  readonly column: string;
  /** Values rewritten in this column so far by this run. */
  readonly rewritten: number;
}

export interface RotationSummary {
  readonly fromKeyId: string;
  readonly toKeyId: string;
  /** True when the database was already under the new key: nothing was done. */
  readonly alreadyDone: boolean;
  /** Whether this run continued an interrupted rotation. */
  readonly resumed: boolean;
  /** Values rewritten by this run, per "table.column". */
  readonly rewritten: Readonly<Record<string, number>>;
}

/**
 * Re-encrypts every encrypted column under `next`, in batches of one transaction each, then
 * replaces the key check value. Resumable and idempotent: a value already under the new key is
 * skipped, so an interrupted rotation rerun with the same keys finishes the work; rerun after it
 * finished, it does nothing. Servers must be stopped meanwhile (they refuse to start until done).
 * The old sealer may read the old "v1:" format (no row binding); every value written is bound.
 * Errors: encryption_key_wrong (the old key is not the database's), key_rotation_unfinished
 * (an interrupted rotation to another new key), validation_failed (new key = old key).
 */
export async function rotateFieldKey(
  db: Kysely<DB>,
  old: FieldSealer,
  next: FieldSealer,
  options: {
    readonly batchSize?: number;
    readonly onBatch?: (progress: RotationProgress) => void | Promise<void>;
  } = {},
): Promise<RotationSummary> {
  if (old.keyId === next.keyId) {
    throw new AppError('validation_failed', '新密钥与旧密钥相同。 The new key is the old key.');
  }
  const batchSize = options.batchSize ?? 1000;
  const begun = await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('encryption_key_check').selectAll().forUpdate().executeTakeFirst();
    if (!row) {
      // A database from before key checks: its values are checked one by one as they are rewritten.
      await trx
        .insertInto('encryption_key_check')
        .values({
          key_id: old.keyId,
          check_value: keyCheckValue(old),
          rotating_to_key_id: next.keyId,
          rotating_check_value: keyCheckValue(next),
        })
        .execute();
      return 'started' as const;
    }
    if (row.rotating_to_key_id === null && checks(row.check_value, next)) return 'done' as const;
    if (!checks(row.check_value, old)) {
      throw new AppError(
        'encryption_key_wrong',
        `旧密钥 (${old.keyId}) 不是数据库的密钥 (${storedKeyId(row.check_value)})。 The old key (${old.keyId}) is not the database's key (${row.key_id}).`,
        { oldKeyId: old.keyId, databaseKeyId: row.key_id },
      );
    }
    if (row.rotating_to_key_id === null) {
      await trx
        .updateTable('encryption_key_check')
        .set({
          rotating_to_key_id: next.keyId,
          rotating_check_value: keyCheckValue(next),
          updated_at: sql<Date>`now()`,
        })
        .execute();
      return 'started' as const;
    }
    if (row.rotating_to_key_id !== next.keyId) {
      throw new AppError(
        'key_rotation_unfinished',
        `未完成的轮换目标是密钥 ${row.rotating_to_key_id}, 不是 ${next.keyId}; 请用该新密钥再次执行。 ` +
          `The unfinished rotation goes to key ${row.rotating_to_key_id}, not ${next.keyId}: rerun it with that new key.`,
      );
    }
    return 'resumed' as const;
  });
  const rewritten: Record<string, number> = {};
  if (begun === 'done') {
    return { fromKeyId: old.keyId, toKeyId: next.keyId, alreadyDone: true, resumed: false, rewritten };
  }

  // Passes until one finds nothing left under the old key (a value written meanwhile is caught).
  for (let changed = true; changed; ) {
    changed = false;
    for (const column of ENCRYPTED_COLUMNS) {
      const name = `${column.table}.${column.column}`;
      let after: (string | number)[] | undefined;
      for (;;) {
        const batch = await db.transaction().execute(async (trx) => {
          const keys = sql.join(column.key.map((key) => sql.ref(key)));
          const rows = await sql<Record<string, string | number>>`
            select ${keys}, ${sql.ref(column.column)} as sealed from ${sql.table(column.table)}
            where ${sql.ref(column.column)} is not null
              and ${sql.ref(column.column)} not like ${`v2:${next.keyId}:%`}
              ${after ? sql`and (${keys}) > (${sql.join(after)})` : sql``}
            order by ${keys}
            limit ${batchSize}
            for update`.execute(trx);
          if (rows.rows.length === 0) return undefined;
          const updates = rows.rows.map((row) => {
            const field = sealedField(
              column,
              column.key.map((key) => row[key]!),
            );
            const plain = old.decrypt(String(row.sealed), field);
            return { ...row, value: next.encrypt(plain, field) };
          });
          const recordType = sql.join([
            ...column.key.map((key) => sql`${sql.ref(key)} ${sql.raw(KEY_TYPES[key])}`),
            sql`sealed text`,
            sql`value text`,
          ]);
          const match = sql.join(
            column.key.map((key) => sql`t.${sql.ref(key)} = v.${sql.ref(key)}`),
            sql` and `,
          );
          await sql`
            update ${sql.table(column.table)} as t set ${sql.ref(column.column)} = v.value
            from jsonb_to_recordset(${JSON.stringify(updates)}::jsonb) as v(${recordType})
            where ${match} and t.${sql.ref(column.column)} = v.sealed`.execute(trx);
          const last = rows.rows[rows.rows.length - 1]!;
          return { count: rows.rows.length, last: column.key.map((key) => last[key]!) };
        });
        if (!batch) break;
        after = batch.last;
        changed = true;
        rewritten[name] = (rewritten[name] ?? 0) + batch.count;
        await options.onBatch?.({ table: column.table, column: column.column, rewritten: rewritten[name] });
      }
    }
  }

  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('encryption_key_check')
      .selectAll()
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (row.rotating_to_key_id !== next.keyId || row.rotating_check_value === null) {
      throw new AppError('key_rotation_unfinished', `the rotation to ${next.keyId} is no longer in progress`);
    }
    await trx
      .updateTable('encryption_key_check')
      .set({
        key_id: next.keyId,
        check_value: row.rotating_check_value!,
        rotating_to_key_id: null,
        rotating_check_value: null,
        updated_at: sql<Date>`now()`,
      })
      .execute();
  });
  return {
    fromKeyId: old.keyId,
    toKeyId: next.keyId,
    alreadyDone: false,
    resumed: begun === 'resumed',
    rewritten,
  };
}
