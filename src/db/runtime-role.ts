import { type Kysely, sql } from 'kysely';
import { type Database, openDatabase } from './database.js';
import { type MigrateResult, migrateToLatest } from './migrate.js';
import type { DB } from './schema.js';

/**
 * On PostgreSQL an owner role runs migrations and a runtime role runs the application. The runtime
 * role owns nothing, so it cannot alter a table, disable a trigger or truncate; it gets exactly:
 * - SELECT and INSERT on every table (schema_migration: SELECT only);
 * - UPDATE on the tables that do not refuse it (no append-only trigger): the mutable registers and
 *   job bookkeeping;
 * - DELETE only on the tables the application prunes (below);
 * - USAGE and SELECT on every sequence (nextval), never TRUNCATE, REFERENCES or TRIGGER.
 */
export const RUNTIME_DELETABLE_TABLES = ['channel_nonce', 'login_throttle'] as const;

export interface MigrateAndGrantResult extends MigrateResult {
  /** The role granted the runtime privileges, when migrations ran as a separate owner role. */
  readonly runtimeRole: string | null;
}

/**
 * Applies pending migrations as the owner (ownerUrl, DATABASE_OWNER_URL) and grants the runtime
 * role (the one `database` connects as, DATABASE_URL) its privileges; without an owner URL, or on
 * PGlite, migrates through `database` itself (one role for both, as on a laptop).
 */
export async function migrateAndGrant(
  database: Database,
  ownerUrl: string | undefined,
): Promise<MigrateAndGrantResult> {
  if (database.kind !== 'postgres' || !ownerUrl)
    return { ...(await migrateToLatest(database.db)), runtimeRole: null };
  const owner = await openDatabase({ kind: 'postgres', url: ownerUrl, poolSize: 1 });
  try {
    const [runtime, own] = [await whoAmI(database.db), await whoAmI(owner.db)];
    if (runtime.database !== own.database)
      return {
        applied: [],
        error: {
          version: '',
          message: `DATABASE_OWNER_URL names database ${own.database}, DATABASE_URL names ${runtime.database}`,
        },
        runtimeRole: null,
      };
    const result = await migrateToLatest(owner.db);
    if (result.error || runtime.role === own.role) return { ...result, runtimeRole: null };
    await grantRuntimeRole(owner.db, runtime.role);
    return { ...result, runtimeRole: runtime.role };
  } finally {
    await owner.close();
  }
}

async function whoAmI(db: Kysely<DB>): Promise<{ role: string; database: string }> {
  const { rows } = await sql<{
    role: string;
    database: string;
  }>`select current_user as role, current_database() as database`.execute(db);
  return rows[0]!;
}

/** Grants `role` exactly the runtime privileges on the schema as it now stands (idempotent). */
export async function grantRuntimeRole(db: Kysely<DB>, role: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const grantee = sql.id(role);
    await sql`revoke all on all tables in schema public from ${grantee}`.execute(trx);
    await sql`revoke all on all sequences in schema public from ${grantee}`.execute(trx);
    await sql`grant usage on schema public to ${grantee}`.execute(trx);
    await sql`grant select, insert on all tables in schema public to ${grantee}`.execute(trx);
    await sql`revoke insert on schema_migration from ${grantee}`.execute(trx);
    const mutable = await sql<{ table_name: string }>`
      select c.relname as table_name
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relname <> 'schema_migration'
        and not exists (
          select 1 from pg_trigger t join pg_proc p on p.oid = t.tgfoid
          where t.tgrelid = c.oid and p.proname = 'refuse_change')
      order by 1`.execute(trx);
    for (const { table_name } of mutable.rows)
      await sql`grant update on ${sql.table(table_name)} to ${grantee}`.execute(trx);
    for (const table of RUNTIME_DELETABLE_TABLES)
      await sql`grant delete on ${sql.table(table)} to ${grantee}`.execute(trx);
    await sql`grant usage, select on all sequences in schema public to ${grantee}`.execute(trx);
    // Tables and sequences the owner creates later are readable and writable at once; the next
    // `db migrate` settles UPDATE and DELETE on them.
    await sql`alter default privileges in schema public grant select, insert on tables to ${grantee}`.execute(
      trx,
    );
    await sql`alter default privileges in schema public grant usage, select on sequences to ${grantee}`.execute(
      trx,
    );
  });
}
