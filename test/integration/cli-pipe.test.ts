import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = path.join(ROOT, 'bin/gridcollect.js');

// `gridcollect … | head`: the reader closes the pipe before the command has written; the command
// must end quietly (exit 0, nothing on standard error) instead of an unhandled EPIPE.
describe('gridcollect writing to a closed pipe (process)', () => {
  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist/main/cli.js')))
      throw new Error('run `npm run build` first (npm install does it)');
  });

  it('ends quietly when standard output is closed by the reader', async () => {
    const input = JSON.stringify({
      category: 'other',
      asOf: '2026-03-01',
      items: [{ amount: '100.00', dueDate: '2026-01-15' }],
    });
    const child = spawn(process.execPath, [BIN, 'calc', 'late-fee', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(input);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(code).toBe(0);
  });
});
