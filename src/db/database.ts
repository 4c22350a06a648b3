import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { type DataDirLock, acquireDataDirLock } from './data-dir-lock.js';
import { createPgPool } from './pg-pool.js';
import { PGliteDialect } from './pglite-dialect.js';
import type { DB } from './schema.js';
import { PG_OID, keepText, parseInt8 } from './type-parsers.js';

export type DatabaseKind = 'pglite' | 'postgres';

/** One Kysely instance over either backend; the rest of the code does not know which. */
export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: DatabaseKind;
  /** For logs and errors: the data directory or the server URL without its password. */
  readonly location: string;
  /** The embedded instance, for dumping a data directory (test templates); absent on PostgreSQL. */
  readonly pglite?: PGlite;
  /** The exclusive lock on an embedded data directory (absent in memory and on PostgreSQL). */
  readonly lock?: DataDirLock;
  close(): Promise<void>;
}

export type DatabaseTarget =
  | { readonly kind: 'pglite'; readonly dataDir: string | undefined; readonly loadDataDir?: Blob }
  | { readonly kind: 'postgres'; readonly url: string; readonly poolSize: number };

export async function openDatabase(target: DatabaseTarget): Promise<Database> {
  if (target.kind === 'postgres') {
    const pgPool = createPgPool(target.url, target.poolSize);
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: pgPool }) });
    return { db, kind: 'postgres', location: redactUrl(target.url), close: () => db.destroy() };
  }
  // PGlite does not create the parent of its data directory.
  if (target.dataDir) await mkdir(path.dirname(path.resolve(target.dataDir)), { recursive: true });
  // One process per data directory: a second one is refused here, before PGlite touches a file.
  const lock = target.dataDir ? await acquireDataDirLock(target.dataDir) : undefined;
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(target.dataDir ? { dataDir: target.dataDir } : {}),
      ...(target.loadDataDir ? { loadDataDir: target.loadDataDir } : {}),
      parsers: { [PG_OID.int8]: parseInt8, [PG_OID.numeric]: keepText, [PG_OID.date]: keepText },
    });
    if (target.dataDir) await restrictToOwner(target.dataDir);
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    location: target.dataDir ?? 'memory://',
    pglite,
    ...(lock ? { lock } : {}),
    close: async () => {
      try {
        await db.destroy();
      } finally {
        await lock?.release();
      }
    },
  };
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/**
 * The embedded database's files are the database: its catalogs (triggers included) must not be
 * writable, nor its data readable, by other OS users. PGlite creates them with the process umask
 * (src/main/cli.ts sets 077); this also closes those of an installation made before, on the first
 * open that finds its directory open to others.
 */
async function restrictToOwner(dataDir: string): Promise<void> {
  // Closed once, it stays closed (the CLI's umask keeps new files private): no walk at every start.
  if (((await stat(dataDir)).mode & 0o077) === 0) return;
  await chmod(dataDir, 0o700);
  for (const entry of await readdir(dataDir, { recursive: true, withFileTypes: true })) {
    const where = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(where, 0o700);
    else if (entry.isFile()) await chmod(where, 0o600);
  }
}
