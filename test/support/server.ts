import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { fixedClock } from '../../src/adapters/clock/system-clock.js';
import { verifyPassword } from '../../src/adapters/crypto/password-hash.js';
import type { Database } from '../../src/adapters/db/database.js';
import { buildServer } from '../../src/adapters/http/server.js';

export const TEST_NOW = new Date('2026-11-27T02:00:00Z');

export async function buildTestServer(database: Database): Promise<FastifyInstance> {
  return buildServer({
    db: database.db,
    databaseKind: database.kind,
    clock: fixedClock(TEST_NOW, 'Asia/Shanghai'),
    tokens: { newToken: () => randomBytes(24).toString('base64url') },
    passwords: { verify: verifyPassword },
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
