import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { executeScript } from './raw-commands.js';
import type { DB } from './schema.js';

/** The SQL files live beside the source; from dist/ the same relative path reaches them. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../src/db/migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
// Any fixed number: migrations on PostgreSQL take this transaction-level advisory lock so that
// two processes starting together apply each migration once.
const MIGRATION_LOCK_ID = 7_240_531;

export interface MigrationFile {
  readonly version: string;
  readonly name: string;
  readonly checksum: string;
  readonly script: string;
}

export interface MigrationStatus {
  readonly version: string;
  readonly name: string;
  readonly state: 'applied' | 'pending' | 'modified';
  readonly appliedAt: Date | null;
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly error: { readonly version: string; readonly message: string } | null;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: MigrationFile[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file name ${file} must look like 0001_name.sql`);
    const script = await readFile(`${dir}/${file}`, 'utf8');
    const checksum = createHash('sha256').update(script).digest('hex');
    migrations.push({ version: match[1]!, name: match[2]!, checksum, script });
  }
  return migrations;
}

async function ensureMigrationTable(db: Kysely<DB>): Promise<void> {
  await sql`create table if not exists schema_migration (
    version text primary key,
    name text not null,
    checksum text not null,
    applied_at timestamptz not null default now()
  )`.execute(db);
}

export async function migrationStatus(db: Kysely<DB>, dir = MIGRATIONS_DIR): Promise<MigrationStatus[]> {
  await ensureMigrationTable(db);
  const applied = new Map(
    (await db.selectFrom('schema_migration').selectAll().execute()).map((row) => [row.version, row]),
  );
  return (await readMigrations(dir)).map((migration) => {
    const row = applied.get(migration.version);
    const state = !row ? 'pending' : row.checksum === migration.checksum ? 'applied' : 'modified';
    return { version: migration.version, name: migration.name, state, appliedAt: row?.applied_at ?? null };
  });
}

/**
 * Applies pending forward-only migrations, each in its own transaction. Returns what it applied
 * and the first error instead of throwing, so callers can report both. An applied migration whose
 * file changed since is an error: migrations are never edited, only added.
 */
export async function migrateToLatest(db: Kysely<DB>, dir = MIGRATIONS_DIR): Promise<MigrateResult> {
  const applied: string[] = [];
  const statuses = await migrationStatus(db, dir);
  const modified = statuses.find((status) => status.state === 'modified');
  if (modified) {
    return {
      applied,
      error: {
        version: modified.version,
        message: `migration ${modified.version}_${modified.name} was changed after it was applied`,
      },
    };
  }
  for (const migration of await readMigrations(dir)) {
    try {
      const didApply = await db.transaction().execute(async (trx) => {
        await sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_ID})`.execute(trx);
        const existing = await trx
          .selectFrom('schema_migration')
          .select('version')
          .where('version', '=', migration.version)
          .executeTakeFirst();
        if (existing) return false;
        await executeScript(trx, migration.script);
        await trx
          .insertInto('schema_migration')
          .values({ version: migration.version, name: migration.name, checksum: migration.checksum })
          .execute();
        return true;
      });
      if (didApply) applied.push(migration.version);
    } catch (error) {
      return { applied, error: { version: migration.version, message: (error as Error).message } };
    }
  }
  return { applied, error: null };
}
