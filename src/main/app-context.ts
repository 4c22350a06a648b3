import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AppContext } from '../app/app-context.js';
import type { FieldCipher } from '../app/ports.js';
import type { Config } from '../config/config.js';
import { systemClock } from '../adapters/clock/system-clock.js';
import { createFieldCipher, loadFieldKey, refuseCompromisedKey } from '../adapters/crypto/field-cipher.js';
import { hashPassword, verifyPassword } from '../adapters/crypto/password-hash.js';
import { type Database, openDatabase } from '../db/database.js';
import { migrateAndGrant } from '../db/runtime-role.js';
import { AppError } from '../app/errors.js';
import { databaseKeyId, verifyFieldKey } from '../app/field-keys.js';

const NO_CIPHER: FieldCipher = {
  keyId: 'none',
  encrypt: () => {
    throw new Error('this command runs without the encryption key');
  },
  decrypt: () => {
    throw new Error('this command runs without the encryption key');
  },
};

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Builds the application context (src/app/app-context.ts): opens the configured database. The
 * embedded default is migrated automatically; a PostgreSQL server is migrated by
 * `gridcollect db migrate` (or by `migrate: true`), as DATABASE_OWNER_URL's role when it is set
 * (which then grants DATABASE_URL's role its runtime privileges).
 */
export async function openConfiguredDatabase(
  config: Config,
  options: { readonly migrate?: boolean } = {},
): Promise<Database> {
  const database = config.databaseUrl
    ? await openDatabase({ kind: 'postgres', url: config.databaseUrl, poolSize: config.dbPoolSize })
    : await openDatabase({ kind: 'pglite', dataDir: config.dataDir });
  if (database.kind === 'pglite' || options.migrate) {
    const result = await migrateAndGrant(database, config.databaseOwnerUrl);
    if (result.error) {
      await database.close();
      throw new AppError(
        'migration_failed',
        `migration ${result.error.version} failed: ${result.error.message}`,
      );
    }
  }
  return database;
}

/**
 * Opens the configured database and checks the field key before anything runs: the key must be
 * configured (PostgreSQL: explicitly), must not be the public one once committed, and must match
 * the key check value stored in the database (recorded on first use).
 */
export async function createAppContext(
  config: Config,
  options: {
    readonly migrate?: boolean;
    /** false for schema commands (db migrate/status/schema): no key is loaded, the cipher refuses use. */
    readonly fieldKey?: boolean;
  } = {},
): Promise<AppContext> {
  let cipher = NO_CIPHER;
  // Opened before the key only when the default key file is missing: a new key is made for a
  // fresh database alone (one with a key check value needs its own key back).
  let opened: Database | undefined;
  const open = async () => {
    opened ??= await openConfiguredDatabase(config, options);
    return opened;
  };
  try {
    if (options.fieldKey !== false) {
      const key = await loadFieldKey(config, { databaseKeyId: async () => databaseKeyId((await open()).db) });
      refuseCompromisedKey(key);
      cipher = createFieldCipher(key);
    }
  } catch (error) {
    await opened?.close();
    throw error;
  }
  const database = await open();
  try {
    if (options.fieldKey !== false) await verifyFieldKey(database.db, cipher);
  } catch (error) {
    await database.close();
    throw error;
  }
  return {
    config,
    database,
    clock: systemClock(config.timeZone),
    tokens: { newToken: () => randomBytes(32).toString('base64url') },
    passwords: { verify: verifyPassword, hash: hashPassword },
    cipher,
    version: VERSION,
    close: () => database.close(),
  };
}
