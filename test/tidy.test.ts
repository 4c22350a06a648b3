import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The architecture's boundaries as code (docs/ARCHITECTURE.md): a failing line here names the
// file and the rule it breaks.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
    .map((entry) => path.relative(ROOT, path.join(entry.parentPath, entry.name)));
}

async function offenders(files: string[], pattern: RegExp): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) {
    const lines = (await readFile(path.join(ROOT, file), 'utf8')).split('\n');
    lines.forEach((line, k) => {
      if (pattern.test(line) && !line.trim().startsWith('//') && !line.trim().startsWith('*'))
        found.push(`${file}:${k + 1}: ${line.trim()}`);
    });
  }
  return found;
}

describe('architecture boundaries', () => {
  it('keeps src/domain pure: no I/O, clock, randomness, environment or outer layers', async () => {
    const files = await sourceFiles('src/domain');
    expect(files.length).toBeGreaterThan(0);
    expect(
      await offenders(
        files,
        /from 'node:|from '(pg|kysely|fastify|@electric-sql\/pglite)'|from '\.\.\/(app|adapters|jobs|main|config)\//,
      ),
    ).toEqual([]);
    expect(
      await offenders(files, /Date\.now\(|new Date\(\)|Math\.random\(|process\.|parseFloat\(|toFixed\(/),
    ).toEqual([]);
  });

  it('reads process.env only in src/config', async () => {
    const files = (await sourceFiles('src')).filter((file) => !file.startsWith(`src${path.sep}config`));
    expect(await offenders(files, /process\.env/)).toEqual([]);
  });

  it('writes to the console only from adapters and main', async () => {
    const files = (await sourceFiles('src')).filter((file) => !/^src[/\\](adapters|main)[/\\]/.test(file));
    expect(await offenders(files, /console\./)).toEqual([]);
  });

  it('keeps the app layer free of HTTP and CLI libraries', async () => {
    const files = [...(await sourceFiles('src/app')), ...(await sourceFiles('src/jobs'))];
    expect(
      await offenders(
        files,
        /from '(fastify|commander|cli-progress|@fastify\/[a-z-]+)'|from '\.\.\/(\.\.\/)?adapters\/(http|cli)\//,
      ),
    ).toEqual([]);
  });

  it('never lets binary floats near money: no parseFloat or toFixed on amounts in the ledger code', async () => {
    const files = (await sourceFiles('src')).filter((file) =>
      /money|ledger|payment|bill|late-fee/.test(file),
    );
    expect(await offenders(files, /parseFloat\(|toFixed\(/)).toEqual([]);
  });
});

describe('documentation', () => {
  it('lists every error code of the catalogue in docs/error-codes.md', async () => {
    const { ERROR_CODES } = await import('../src/app/errors.js');
    const page = await readFile(path.join(ROOT, 'docs/error-codes.md'), 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((code) => !page.includes(`| ${code} |`));
    expect(missing).toEqual([]);
  });
});
