import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FieldCipher } from '../../app/ports.js';

/**
 * The field cipher (src/app/ports.ts) with AES-256-GCM.
 * Ciphertext format: "v1:" + base64(iv[12] | tag[16] | ciphertext).
 */
export function createFieldCipher(key: Buffer): FieldCipher {
  if (key.length !== 32) throw new Error('field cipher key must be 32 bytes');
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `v1:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    decrypt(sealed) {
      if (!sealed.startsWith('v1:')) throw new Error('unknown ciphertext version');
      const raw = Buffer.from(sealed.slice(3), 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

/**
 * The key comes from GRIDCOLLECT_ENCRYPTION_KEY; without it, a key file is created once in the
 * data directory (fine for the embedded default; production sets the variable).
 */
export async function loadFieldKey(keyHex: string | undefined, dataDir: string): Promise<Buffer> {
  if (keyHex) return Buffer.from(keyHex, 'hex');
  const file = path.join(dataDir, '..', `${path.basename(dataDir)}.key`);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const key = randomBytes(32);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, key.toString('hex'), { mode: 0o600, flag: 'wx' }).catch(async (writeError) => {
      if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw writeError;
    });
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  }
}
