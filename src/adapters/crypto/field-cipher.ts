import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../app/errors.js';
import type { FieldCipher, SealedField } from '../../app/ports.js';

/**
 * Encrypts personal data and channel secrets at rest with AES-256-GCM, each value bound to its
 * row: the associated data is the (table, column, id) of the field, so a ciphertext copied onto
 * another row does not decrypt.
 * Ciphertext format: "v2:" + key id (16 hex) + ":" + base64(iv[12] | tag[16] | ciphertext).
 * "v1:" + base64(...) (no key id, no associated data) is the format before row binding; only a
 * rotation's old key reads it (`gridcollect keys rotate`).
 */
export type { FieldCipher };

/**
 * SHA-256 fingerprints of keys that are public and must never protect data: the key once
 * committed to the repository as data.key (only its fingerprint is kept here).
 */
const COMPROMISED_KEY_FINGERPRINTS: ReadonlySet<string> = new Set([
  '87efc7dfc4e879fde316986dd332b1bf825eccd9997490ecf87072a8f38a9faf',
]);

export function keyFingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex');
}

export function isCompromisedKey(key: Buffer): boolean {
  return COMPROMISED_KEY_FINGERPRINTS.has(keyFingerprint(key));
}

/** The key's public name, written into every ciphertext (a hash of the key, not the key). */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('gridcollect field key id\0').update(key).digest('hex').slice(0, 16);
}

function associatedData(field: SealedField): Buffer {
  return Buffer.from(JSON.stringify([field.table, field.column, field.id]), 'utf8');
}

function describe(field: SealedField): string {
  return `${field.table}.${field.column} (${field.id})`;
}

export function createFieldCipher(key: Buffer, options: { readonly readLegacy?: boolean } = {}): FieldCipher {
  if (key.length !== 32) throw new Error('field cipher key must be 32 bytes');
  const keyId = keyIdOf(key);
  const open = (raw: Buffer, aad: Buffer | undefined): string => {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    if (aad) decipher.setAAD(aad);
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  };
  return {
    keyId,
    encrypt(plain, field) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(associatedData(field));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v2:${keyId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    decrypt(sealed, field) {
      if (sealed.startsWith('v2:')) {
        const sealedKeyId = sealed.slice(3, 19);
        if (sealedKeyId !== keyId) {
          throw new Error(
            `${describe(field)} is encrypted under key ${sealedKeyId}, not under the configured key ${keyId}`,
          );
        }
        try {
          return open(Buffer.from(sealed.slice(20), 'base64'), associatedData(field));
        } catch {
          throw new Error(
            `${describe(field)} does not decrypt: the value belongs to another row or is damaged`,
          );
        }
      }
      if (sealed.startsWith('v1:') && options.readLegacy) {
        try {
          return open(Buffer.from(sealed.slice(3), 'base64'), undefined);
        } catch {
          throw new Error(`${describe(field)} does not decrypt with the old key`);
        }
      }
      throw new Error(
        `${describe(field)} has an unknown or legacy ciphertext format (run gridcollect keys rotate)`,
      );
    },
  };
}

/** Where the key comes from, as configured. */
export interface KeySource {
  readonly encryptionKeyHex: string | undefined;
  readonly encryptionKeyFile: string | undefined;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /** The OS user's configuration directory ($XDG_CONFIG_HOME or ~/.config). */
  readonly userConfigDir: string;
}

/** The directory holding `.git` at or above `dir`, if any: key files never go there by default. */
export function enclosingCheckout(dir: string): string | undefined {
  let current = path.resolve(dir);
  for (;;) {
    if (existsSync(path.join(current, '.git'))) return current;
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

/**
 * The default key file of an embedded database: next to the data directory ("<dir>.key") when
 * that lies outside any git checkout, otherwise in the user's configuration directory under
 * gridcollect/keys/, named by the data directory's path.
 */
export function defaultKeyFile(dataDir: string, userConfigDir: string): string {
  const parent = path.dirname(path.resolve(dataDir));
  if (!enclosingCheckout(parent)) return path.join(parent, `${path.basename(dataDir)}.key`);
  const name = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  return path.join(userConfigDir, 'gridcollect', 'keys', `${path.basename(dataDir)}-${name}.key`);
}

function parseKeyHex(text: string, origin: string): Buffer {
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new AppError(
      'encryption_key_invalid',
      `密钥文件 ${origin} 应为 64 位十六进制 (32 字节)。 The key in ${origin} must be 64 hex characters (32 bytes).`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** A key file that is not there (or is not a regular file). */
function keyFileMissing(file: string, notAFile: boolean): AppError {
  return new AppError(
    'encryption_key_file_missing',
    notAFile
      ? `密钥文件 ${file} 不是普通文件。 The key file ${file} is not a file.`
      : `密钥文件 ${file} 不存在。 The key file ${file} does not exist.`,
    { file },
  );
}

/** Reads a key file, refusing one that is missing, not a file, or that group or others may read or write. */
export async function readKeyFile(file: string): Promise<Buffer> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw keyFileMissing(file, false);
    throw error;
  }
  if (!info.isFile()) throw keyFileMissing(file, true);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new AppError(
      'encryption_key_file_insecure',
      `密钥文件 ${file} 的权限为 ${(info.mode & 0o777).toString(8)}, 其他用户可读写; 请执行 chmod 600 ${file}。 ` +
        `The key file ${file} is accessible to group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 ${file}.`,
    );
  }
  return parseKeyHex(await readFile(file, 'utf8'), file);
}

/**
 * Writes a new random key to `file` with mode 0600 (its directory 0700 when created), refusing a
 * place inside a git checkout. Fails when the file exists.
 */
export async function writeNewKeyFile(file: string): Promise<Buffer> {
  const checkout = enclosingCheckout(path.dirname(path.resolve(file)));
  if (checkout) {
    throw new AppError(
      'encryption_key_file_insecure',
      `密钥文件不可放在 git 工作区 ${checkout} 内: ${file}。 A key file must not lie inside the git checkout ${checkout}: ${file}.`,
    );
  }
  const key = randomBytes(32);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  return key;
}

/** Whether the key file exists (any kind of entry: a directory is then refused as "not a file"). */
async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * The configured field key: GRIDCOLLECT_ENCRYPTION_KEY, else GRIDCOLLECT_ENCRYPTION_KEY_FILE;
 * PostgreSQL requires one of them. The embedded database without either uses its default key
 * file (see defaultKeyFile). When that file is missing, a new key is written there only for a
 * fresh database: `databaseKeyId` answers the key id of the database's key check value (null when
 * it has none yet); a database that has one needs its own key back, not a new one. With
 * `create: false` a missing default key file is always an error.
 */
export async function loadFieldKey(
  source: KeySource,
  options: {
    readonly create?: boolean;
    readonly databaseKeyId?: () => Promise<string | null>;
  } = {},
): Promise<Buffer> {
  if (source.encryptionKeyHex) return parseKeyHex(source.encryptionKeyHex, 'GRIDCOLLECT_ENCRYPTION_KEY');
  if (source.encryptionKeyFile) return readKeyFile(source.encryptionKeyFile);
  if (source.databaseUrl) {
    throw new AppError(
      'encryption_key_required',
      '使用 PostgreSQL 时必须设置 GRIDCOLLECT_ENCRYPTION_KEY 或 GRIDCOLLECT_ENCRYPTION_KEY_FILE。 ' +
        'With PostgreSQL (DATABASE_URL) an explicit key is required: set GRIDCOLLECT_ENCRYPTION_KEY_FILE (a 0600 file holding 64 hex characters) or GRIDCOLLECT_ENCRYPTION_KEY.',
    );
  }
  const file = defaultKeyFile(source.dataDir, source.userConfigDir);
  if (await exists(file)) return readKeyFile(file);
  if (options.create === false) {
    throw new AppError(
      'encryption_key_file_missing',
      `默认密钥文件 ${file} 不存在; 请用 --old-key-file 指定当前密钥。 The default key file ${file} does not exist: name the current key with --old-key-file.`,
      { file },
    );
  }
  const databaseKeyId = (await options.databaseKeyId?.()) ?? null;
  if (databaseKeyId !== null) {
    throw new AppError(
      'encryption_key_file_missing',
      `默认密钥文件 ${file} 不存在, 但数据库已使用密钥 ${databaseKeyId} 加密; 请从备份恢复该密钥文件到 ${file} (chmod 600), 或设置 GRIDCOLLECT_ENCRYPTION_KEY_FILE。不会生成新密钥。 ` +
        `The default key file ${file} does not exist, but the database is encrypted under key ${databaseKeyId}: restore that key file from your backup to ${file} (chmod 600), or set GRIDCOLLECT_ENCRYPTION_KEY_FILE. No new key was made.`,
      { file, databaseKeyId },
    );
  }
  try {
    return await writeNewKeyFile(file);
  } catch (writeError) {
    if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
    return readKeyFile(file);
  }
}

/**
 * After a rotation away from the default key file's key: the file gets the new key (written to a
 * temporary file, 0600, renamed over it) and the old key is kept beside it as
 * `<file>.<old key id>.old` (0600; left as it is when a previous run already wrote it).
 * Returns the backup's path.
 */
export async function replaceDefaultKeyFile(file: string, oldKey: Buffer, newKey: Buffer): Promise<string> {
  const backup = `${file}.${keyIdOf(oldKey)}.old`;
  try {
    await writeFile(backup, `${oldKey.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    if (!(await readKeyFile(backup)).equals(oldKey))
      throw new Error(`${backup} exists and does not hold the old key ${keyIdOf(oldKey)}`);
  }
  await chmod(backup, 0o600);
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, `${newKey.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
  return backup;
}

/** Refuses a key that is public (start, serve and every command but `keys rotate`). */
export function refuseCompromisedKey(key: Buffer): void {
  if (!isCompromisedKey(key)) return;
  throw new AppError(
    'encryption_key_compromised',
    '配置的加密密钥是曾提交到代码库的公开密钥 (data.key), 不能使用。请执行 ' +
      'gridcollect keys rotate --old-key-file <旧密钥文件> --new-key-file <新密钥文件> 用新密钥重新加密, 然后设置 GRIDCOLLECT_ENCRYPTION_KEY_FILE=<新密钥文件>。 ' +
      'The configured encryption key is the public key once committed to the repository as data.key. ' +
      'Rotate: gridcollect keys rotate --old-key-file <old key file> --new-key-file <new key file>, ' +
      'then set GRIDCOLLECT_ENCRYPTION_KEY_FILE=<new key file> (see README, "Keys").',
  );
}
