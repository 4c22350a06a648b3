import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../src/app/ports.js';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { createFieldCipher } from '../../src/adapters/crypto/field-cipher.js';
import { hashPassword, verifyPassword } from '../../src/adapters/crypto/password-hash.js';
import type { Database } from '../../src/db/database.js';
import { buildServer } from '../../src/adapters/http/server.js';

export const TEST_NOW = new Date('2026-11-27T02:00:00Z');

/** The field cipher of test servers: channels added with it can sign requests to them. */
export const TEST_CIPHER = createFieldCipher(Buffer.alloc(32, 7));

export async function buildTestServer(
  database: Database,
  options: { readonly clock?: Clock } = {},
): Promise<FastifyInstance> {
  return buildServer({
    db: database.db,
    databaseKind: database.kind,
    clock: options.clock ?? fixedClock(TEST_NOW, 'Asia/Shanghai'),
    cipher: TEST_CIPHER,
    tokens: { newToken: () => randomBytes(24).toString('base64url') },
    passwords: { verify: verifyPassword, hash: hashPassword },
    sessionHours: 12,
    logLevel: 'silent',
    version: 'test',
  });
}

export async function loginToken(
  app: FastifyInstance,
  login: string,
  password = 'gridcollect',
): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { login, password },
  });
  if (response.statusCode !== 200) throw new Error(`login ${login} failed: ${response.body}`);
  return response.json<{ token: string }>().token;
}
