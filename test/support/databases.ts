import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { type Database, type DatabaseKind, openDatabase } from '../../src/db/database.js';
import { loadConfig } from '../../src/config/config.js';
import { withDatabase } from './global-setup.js';

/** The backends this run tests against: PGlite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function testedDatabaseKinds(): DatabaseKind[] {
  return inject('postgresTemplate') ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase extends Database {
  /** The connection URL (PostgreSQL only), for code that opens its own connections such as the CLI. */
  url?: string;
  /** Opens another Database on the same data (PostgreSQL only): a second process's view. */
  openAnother?: (poolSize: number) => Promise<Database>;
}

/** A fresh, migrated database of the given kind; close() also drops it. */
export async function createTestDatabase(kind: DatabaseKind, poolSize = 4): Promise<TestDatabase> {
  if (kind === 'pglite') {
    const tar = await readFile(inject('pgliteTemplatePath'));
    return openDatabase({ kind: 'pglite', dataDir: undefined, loadDataDir: new Blob([tar]) });
  }
  const url = loadConfig().testDatabaseUrl!;
  const name = `gc_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name} template ${inject('postgresTemplate')}`);
  await admin.end();
  const databaseUrl = withDatabase(url, name);
  const database = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize });
  const others: Database[] = [];
  return {
    ...database,
    url: databaseUrl,
    openAnother: async (size: number) => {
      const other = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize: size });
      others.push(other);
      return other;
    },
    close: async () => {
      for (const other of others) await other.close();
      await database.close();
      const dropper = new pg.Client({ connectionString: url });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/** Runs the same suite against every tested backend. */
export function describeEachDatabase(title: string, body: (kind: DatabaseKind) => void): void {
  for (const kind of testedDatabaseKinds()) describe(`${title} [${kind}]`, () => body(kind));
}
