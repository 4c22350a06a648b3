import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/config.js';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplatePath: string;
    postgresTemplate: string | null;
  }
}

/**
 * Builds one migrated database per backend before the suite: a dumped PGlite data directory
 * (loading it takes ~0.5 s where initdb takes 4–5 s) and, when TEST_DATABASE_URL is set, a
 * PostgreSQL template database that each test copies with CREATE DATABASE … TEMPLATE.
 */
export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-test-'));
  const template = await openDatabase({ kind: 'pglite', dataDir: undefined });
  const result = await migrateToLatest(template.db);
  if (result.error) throw new Error(`migration ${result.error.version} failed: ${result.error.message}`);
  const dump = await template.pglite!.dumpDataDir('none');
  await template.close();
  const templatePath = path.join(dir, 'template.tar');
  await writeFile(templatePath, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplatePath', templatePath);

  const url = loadConfig().testDatabaseUrl;
  let templateName: string | null = null;
  if (url) {
    templateName = `gc_template_${process.pid}`;
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`drop database if exists ${templateName}`);
    await admin.query(`create database ${templateName}`);
    await admin.end();
    const database = await openDatabase({
      kind: 'postgres',
      url: withDatabase(url, templateName),
      poolSize: 2,
    });
    const pgResult = await migrateToLatest(database.db);
    await database.close();
    if (pgResult.error)
      throw new Error(`migration ${pgResult.error.version} failed on PostgreSQL: ${pgResult.error.message}`);
  }
  project.provide('postgresTemplate', templateName);

  return async () => {
    await rm(dir, { recursive: true, force: true });
    if (url && templateName) {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const { rows } = await admin.query<{ datname: string }>(
        `select datname from pg_database where datname like 'gc_test_%' or datname = $1`,
        [templateName],
      );
      for (const row of rows) await admin.query(`drop database if exists ${row.datname} with (force)`);
      await admin.end();
    }
  };
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
