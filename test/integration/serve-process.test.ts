import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/gridcollect.js');

// The compiled command as an operator runs it: prints its URL, serves, stops cleanly on SIGTERM.
describe('gridcollect serve (process)', () => {
  let dir: string;
  beforeAll(async () => {
    if (!existsSync(path.join(ROOT, 'dist/main/cli.js')))
      throw new Error('run `npm run build` first (npm install does it)');
    dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-serve-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the URL, answers /health and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [BIN, '--lang', 'en', 'serve', '--port', '0'], {
      env: {
        ...process.env,
        GRIDCOLLECT_DATA_DIR: path.join(dir, 'data'),
        DATABASE_URL: '',
        GRIDCOLLECT_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${output}`)), 60_000);
      child.stdout.on('data', (chunk) => {
        output += chunk;
        const match = /running: (http:\/\/\S+\/)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited early with ${code}: ${output}`)));
    });
    const health = await fetch(`${url}health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', database: 'pglite' });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
