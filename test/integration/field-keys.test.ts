import { execFileSync } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cliIn } from '../support/cli-login.js';
import { createFieldCipher, keyIdOf } from '../../src/adapters/crypto/field-cipher.js';
import { addChannel } from '../../src/app/add-channel.js';
import type { AppError } from '../../src/app/errors.js';
import { rotateFieldKey, verifyFieldKey } from '../../src/app/field-keys.js';
import type { FieldSealer } from '../../src/app/ports.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import { ENCRYPTED_COLUMNS, nationalIdField, sealedField } from '../../src/app/sealed-fields.js';
import { parseConfig } from '../../src/config/config.js';
import type { Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';
import { createAppContext } from '../../src/main/app-context.js';
import { type TestDatabase, createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo, testCipher } from '../support/demo.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The key once committed as data.key, read back from git history (it is public; only its fingerprint is in the code). */
function publicKeyHex(): string {
  const commit = execFileSync('git', ['log', '--all', '--format=%H', '-1', '--', 'data.key'], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  if (!commit) throw new Error('data.key is not in this checkout’s git history');
  return execFileSync('git', ['show', `${commit}^:data.key`], { cwd: ROOT, encoding: 'utf8' }).trim();
}

/** The format before row binding ("v1:", no associated data), as installations of old wrote it. */
function legacySeal(key: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

/** Every encrypted value of the database, decrypted with `sealer`, by "table.column/id". */
async function plaintexts(db: Kysely<DB>, sealer: FieldSealer): Promise<Map<string, string>> {
  const all = new Map<string, string>();
  for (const column of ENCRYPTED_COLUMNS) {
    const rows = await sql<Record<string, string | number>>`
      select ${sql.join(column.key.map((key) => sql.ref(key)))}, ${sql.ref(column.column)} as sealed
      from ${sql.table(column.table)} where ${sql.ref(column.column)} is not null`.execute(db);
    for (const row of rows.rows) {
      const field = sealedField(
        column,
        column.key.map((key) => row[key]!),
      );
      all.set(`${field.table}.${field.column}/${field.id}`, sealer.decrypt(String(row.sealed), field));
    }
  }
  return all;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return (error as AppError).code ?? (error as Error).message;
  }
}

/** The real CLI in-process (test/support/cli-login.ts). */
const cli = (env: Record<string, string>, ...argv: string[]) => cliIn(env, argv);

describeEachDatabase('field keys', (kind) => {
  let database: TestDatabase;
  let original: Map<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db, { customers: 300, months: 1, partitionSize: 100 });
    for (const code of ['BANKA', 'BANKB'])
      await addChannel(
        database.db,
        CLI_PRINCIPAL,
        testCipher.encrypt,
        { channelCode: code, secret: `${code}-secret-0123456789` },
        new Date('2026-11-01T00:00:00Z'),
      );
    original = await plaintexts(database.db, testCipher);
  });
  afterAll(async () => {
    await database?.close();
  });

  it('records the key check on first use, then refuses another key with a clear message', async () => {
    expect(original.size).toBeGreaterThan(160);
    await verifyFieldKey(database.db, testCipher);
    await verifyFieldKey(database.db, testCipher);
    const other = createFieldCipher(randomBytes(32));
    await expect(verifyFieldKey(database.db, other)).rejects.toMatchObject({
      code: 'encryption_key_wrong',
      message: expect.stringContaining(
        `configured encryption key (${other.keyId}) is not the database's key`,
      ),
    });
  });

  it('does not decrypt a ciphertext copied onto another row', async () => {
    const [a, b] = (
      await database.db
        .selectFrom('customer')
        .select(['customer_id', 'national_id_encrypted'])
        .where('national_id_encrypted', 'is not', null)
        .orderBy('customer_id')
        .limit(2)
        .execute()
    ).map((row) => ({ id: row.customer_id, sealed: row.national_id_encrypted! }));
    expect(testCipher.decrypt(a!.sealed, nationalIdField(a!.id))).toMatch(/^\d{17}[\dX]$/);
    expect(() => testCipher.decrypt(a!.sealed, nationalIdField(b!.id))).toThrow(/belongs to another row/);
    // Copied in the database, the value is refused by the rotation, which names the row.
    await database.db
      .updateTable('customer')
      .set({ national_id_encrypted: a!.sealed })
      .where('customer_id', '=', b!.id)
      .execute();
    try {
      await expect(
        rotateFieldKey(database.db, testCipher, createFieldCipher(randomBytes(32)), { batchSize: 50 }),
      ).rejects.toThrow(new RegExp(`customer\\.national_id_encrypted \\(${b!.id}\\)`));
    } finally {
      await database.db
        .updateTable('customer')
        .set({ national_id_encrypted: b!.sealed })
        .where('customer_id', '=', b!.id)
        .execute();
    }
  });

  it('rotates every value to a new key; interrupted and rerun gives what one clean run gives', async () => {
    // The failed rotation of the previous test left a rotation to another key unfinished.
    await database.db
      .updateTable('encryption_key_check')
      .set({ rotating_to_key_id: null, rotating_check_value: null })
      .execute();
    const keyB = createFieldCipher(randomBytes(32));
    const crash = new Error('killed');
    let batches = 0;
    await expect(
      rotateFieldKey(database.db, testCipher, keyB, {
        batchSize: 40,
        onBatch: () => {
          if (++batches === 4) throw crash;
        },
      }),
    ).rejects.toBe(crash);
    // Half-way: neither key starts the application.
    expect(await codeOf(verifyFieldKey(database.db, testCipher))).toBe('key_rotation_unfinished');
    expect(await codeOf(verifyFieldKey(database.db, keyB))).toBe('key_rotation_unfinished');
    // Another new key is refused while this rotation is unfinished.
    expect(await codeOf(rotateFieldKey(database.db, testCipher, createFieldCipher(randomBytes(32))))).toBe(
      'key_rotation_unfinished',
    );
    let underB = 0;
    for (const column of ENCRYPTED_COLUMNS) {
      const found = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(column.table)}
        where ${sql.ref(column.column)} like ${`v2:${keyB.keyId}:%`}`.execute(database.db);
      underB += found.rows[0]!.n;
    }
    expect(underB).toBe(4 * 40);
    const resumed = await rotateFieldKey(database.db, testCipher, keyB, { batchSize: 40 });
    expect(resumed.resumed).toBe(true);
    // The rerun rewrites only what the interrupted run left.
    expect(Object.values(resumed.rewritten).reduce((sum, n) => sum + n, 0)).toBe(original.size - underB);
    expect(await plaintexts(database.db, keyB)).toEqual(original);
    await verifyFieldKey(database.db, keyB);
    expect(await codeOf(verifyFieldKey(database.db, testCipher))).toBe('encryption_key_wrong');

    // A clean run from B to C rewrites every value once and yields the same contents.
    const keyC = createFieldCipher(randomBytes(32));
    const clean = await rotateFieldKey(database.db, keyB, keyC);
    expect(clean.resumed).toBe(false);
    expect(Object.values(clean.rewritten).reduce((sum, n) => sum + n, 0)).toBe(original.size);
    expect(await plaintexts(database.db, keyC)).toEqual(original);
    await verifyFieldKey(database.db, keyC);
    // Rerun after it finished: nothing to do.
    expect((await rotateFieldKey(database.db, keyB, keyC)).alreadyDone).toBe(true);
    // The old key is no longer the database's.
    expect(await codeOf(rotateFieldKey(database.db, keyB, createFieldCipher(randomBytes(32))))).toBe(
      'encryption_key_wrong',
    );
  });

  it('refuses the public key at start, but rotates a legacy database away from it', async () => {
    const publicKey = Buffer.from(publicKeyHex(), 'hex');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-keys-'));
    const legacy = await createTestDatabase(kind);
    try {
      const env = {
        GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
        GRIDCOLLECT_ENCRYPTION_KEY: publicKey.toString('hex'),
        ...(kind === 'postgres' ? { DATABASE_URL: legacy.url! } : {}),
      };
      await expect(createAppContext(parseConfig(env))).rejects.toMatchObject({
        code: 'encryption_key_compromised',
        message: expect.stringContaining('gridcollect keys rotate'),
      });
      // An installation of old: values in the "v1:" format under the public key, no key check.
      await createSmallDemo(legacy.db, { customers: 100, months: 1, partitionSize: 100 });
      await sql`update customer set national_id_encrypted = null`.execute(legacy.db);
      const ids = (await legacy.db.selectFrom('customer').select('customer_id').limit(3).execute()).map(
        (row) => row.customer_id,
      );
      for (const id of ids)
        await legacy.db
          .updateTable('customer')
          .set({ national_id_encrypted: legacySeal(publicKey, `11010519491231002${id % 10}`) })
          .where('customer_id', '=', id)
          .execute();
      await sql`update customer_account set withholding_account_no_encrypted = null`.execute(legacy.db);
      const fresh = createFieldCipher(randomBytes(32));
      expect(await codeOf(verifyFieldKey(legacy.db, fresh))).toBe('encryption_key_unchecked');
      const summary = await rotateFieldKey(
        legacy.db,
        createFieldCipher(publicKey, { readLegacy: true }),
        fresh,
      );
      expect(summary.rewritten['customer.national_id_encrypted']).toBe(3);
      await verifyFieldKey(legacy.db, fresh);
      const after = await plaintexts(legacy.db, fresh);
      expect([...after.values()].sort()).toEqual(ids.map((id) => `11010519491231002${id % 10}`).sort());
    } finally {
      await legacy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs `keys rotate` from the CLI and refuses a readable key file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-keys-cli-'));
    const cliDatabase = kind === 'postgres' ? await createTestDatabase(kind) : undefined;
    try {
      const keyFile = path.join(dir, 'current.key');
      await writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
      const env: Record<string, string> = {
        GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
        GRIDCOLLECT_LANG: 'en',
        GRIDCOLLECT_ENCRYPTION_KEY_FILE: keyFile,
        ...(cliDatabase ? { DATABASE_URL: cliDatabase.url! } : {}),
      };
      const demo = await cli(
        env,
        'demo',
        '--customers',
        '100',
        '--months',
        '1',
        '--seed',
        '4',
        '--until',
        '2026-10',
        '--reads-only',
        '--json',
      );
      expect(demo.code).toBe(0);

      await chmod(keyFile, 0o644);
      const insecure = await cli(env, 'customer', 'list', '--limit', '1', '--json');
      expect(insecure.code).toBe(1);
      expect(insecure.stderr).toMatch(/encryption_key_file_insecure: .*chmod 600/);
      await chmod(keyFile, 0o600);

      const newKeyFile = path.join(dir, 'keys', 'next.key');
      const rotated = await cli(
        env,
        'keys',
        'rotate',
        '--new-key-file',
        newKeyFile,
        '--batch-size',
        '30',
        '--json',
      );
      expect(rotated.stderr).toBe('');
      expect(rotated.code).toBe(0);
      expect(JSON.parse(rotated.stdout)).toMatchObject({ newKeyFileCreated: true, alreadyDone: false });
      expect((await stat(newKeyFile)).mode & 0o777).toBe(0o600);

      const wrong = await cli(env, 'customer', 'list', '--limit', '1', '--json');
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toMatch(/encryption_key_wrong/);
      const right = await cli(
        { ...env, GRIDCOLLECT_ENCRYPTION_KEY_FILE: newKeyFile },
        'customer',
        'list',
        '--limit',
        '1',
        '--json',
      );
      expect(right.code).toBe(0);

      if (kind === 'postgres') {
        const { GRIDCOLLECT_ENCRYPTION_KEY_FILE: _omitted, ...withoutKey } = env;
        const refused = await cli(withoutKey, 'customer', 'list', '--limit', '1');
        expect(refused.code).toBe(1);
        expect(refused.stderr).toMatch(/encryption_key_required: .*GRIDCOLLECT_ENCRYPTION_KEY_FILE/);
        // Schema commands need no key.
        expect((await cli(withoutKey, 'db', 'status', '--json')).code).toBe(0);
      }
    } finally {
      await cliDatabase?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a missing key file or a directory given as a key (exit 2, no stack trace)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-keys-missing-'));
    const cliDatabase = kind === 'postgres' ? await createTestDatabase(kind) : undefined;
    try {
      const keyFile = path.join(dir, 'current.key');
      await writeFile(keyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
      await mkdir(path.join(dir, 'a-directory.key'));
      const env: Record<string, string> = {
        GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
        GRIDCOLLECT_LANG: 'en',
        GRIDCOLLECT_ENCRYPTION_KEY_FILE: keyFile,
        ...(cliDatabase ? { DATABASE_URL: cliDatabase.url! } : {}),
      };
      const next = path.join(dir, 'next.key');
      const missing = await cli(
        env,
        'keys',
        'rotate',
        '--old-key-file',
        path.join(dir, 'nope.key'),
        '--new-key-file',
        next,
      );
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain(`The key file ${path.join(dir, 'nope.key')} does not exist`);
      expect(missing.stderr).not.toMatch(/\n\s+at /);
      const directory = await cli(
        env,
        'keys',
        'rotate',
        '--old-key-file',
        path.join(dir, 'a-directory.key'),
        '--new-key-file',
        next,
      );
      expect(directory.code).toBe(2);
      expect(directory.stderr).toContain(`The key file ${path.join(dir, 'a-directory.key')} is not a file`);
      expect(directory.stderr).not.toMatch(/permissions|chmod/);
      // The configured key file missing: named too, at start of any command.
      const configured = await cli(
        { ...env, GRIDCOLLECT_ENCRYPTION_KEY_FILE: path.join(dir, 'gone.key') },
        'customer',
        'list',
      );
      expect(configured.code).toBe(1);
      expect(configured.stderr).toMatch(/encryption_key_file_missing: .*gone\.key does not exist/);
    } finally {
      await cliDatabase?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('embedded default key file: made for a fresh database only; a rotation moves it to the new key', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-keys-default-'));
    try {
      const env: Record<string, string> = {
        GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
        GRIDCOLLECT_LANG: 'en',
        XDG_CONFIG_HOME: path.join(dir, 'config'),
      };
      if (kind === 'postgres') {
        // PostgreSQL never has a default key file: an explicit key is required.
        const refused = await cli({ ...env, DATABASE_URL: database.url! }, 'customer', 'list');
        expect(refused.stderr).toMatch(/encryption_key_required/);
        return;
      }
      const demo = await cli(
        env,
        'demo',
        '--customers',
        '100',
        '--months',
        '1',
        '--seed',
        '5',
        '--until',
        '2026-10',
        '--reads-only',
        '--json',
      );
      expect(demo.code).toBe(0);
      const defaultFile = path.join(dir, 'data.key');
      const oldKey = Buffer.from((await readFile(defaultFile, 'utf8')).trim(), 'hex');

      // The key file lost: no new key behind the operator's back, the place it was expected named.
      await rename(defaultFile, `${defaultFile}.moved`);
      const lost = await cli(env, 'customer', 'list', '--limit', '1');
      expect(lost.code).toBe(1);
      expect(lost.stderr).toContain(
        `The default key file ${defaultFile} does not exist, but the database is encrypted under key ${keyIdOf(oldKey)}`,
      );
      await expect(stat(defaultFile)).rejects.toThrow(/ENOENT/);
      await rename(`${defaultFile}.moved`, defaultFile);

      // Rotated with nothing configured: the default key file holds the new key afterwards.
      const nextFile = path.join(dir, 'keys', 'next.key');
      const rotated = await cli(env, 'keys', 'rotate', '--new-key-file', nextFile, '--json');
      expect(rotated.stderr).toBe('');
      expect(rotated.code).toBe(0);
      const backup = `${defaultFile}.${keyIdOf(oldKey)}.old`;
      expect(JSON.parse(rotated.stdout)).toMatchObject({ defaultKeyFile: defaultFile, oldKeyBackup: backup });
      expect(await readFile(defaultFile, 'utf8')).toBe(await readFile(nextFile, 'utf8'));
      expect((await stat(defaultFile)).mode & 0o777).toBe(0o600);
      expect((await readFile(backup, 'utf8')).trim()).toBe(oldKey.toString('hex'));
      expect((await stat(backup)).mode & 0o777).toBe(0o600);
      const after = await cli(env, 'customer', 'list', '--limit', '1', '--json');
      expect(after.stderr).toBe('');
      expect(after.code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
