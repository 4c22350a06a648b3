import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { AppContext } from '../app/app-context.js';
import type { Config } from '../config/config.js';
import { systemClock } from '../adapters/clock/system-clock.js';
import { createFieldCipher, loadFieldKey } from '../adapters/crypto/field-cipher.js';
import { hashPassword, verifyPassword } from '../adapters/crypto/password-hash.js';
import { openDatabase } from '../db/database.js';
import { migrateAndGrant } from '../db/runtime-role.js';
import { AppError } from '../app/errors.js';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/**
 * Builds the application context (src/app/app-context.ts): opens the configured database. The
 * embedded default is migrated automatically; a PostgreSQL server is migrated by
 * `gridcollect db migrate` (or by `migrate: true`), as DATABASE_OWNER_URL's role when it is set
 * (which then grants DATABASE_URL's role its runtime privileges).
 */
export async function createAppContext(
  config: Config,
  options: { readonly migrate?: boolean } = {},
): Promise<AppContext> {
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
  const key = await loadFieldKey(config.encryptionKeyHex, config.dataDir);
  return {
    config,
    database,
    clock: systemClock(config.timeZone),
    tokens: { newToken: () => randomBytes(32).toString('base64url') },
    passwords: { verify: verifyPassword, hash: hashPassword },
    cipher: createFieldCipher(key),
    version: VERSION,
    close: () => database.close(),
  };
}
