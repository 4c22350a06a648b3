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

// The ledger core (src/app/ledger): one journal writer, one scope rule. Each guard is a pattern,
// tried first on lines it must catch, so a guard that matches nothing cannot pass unnoticed.
const JOURNAL_WRITE =
  /insertInto\(\s*['"](journal_entry|posting)['"]|insert\s+into\s+(journal_entry|posting)\b|(copyRows|copyText|CopyRows)\b.*['"](journal_entry|posting)['"]|\b(journal_entry|posting)\.push\(|^\s*(journal_entry|posting):\s*\{/i;
const HAND_WRITTEN_SCOPE =
  /scopePath\}?%|scopePath\s*\+\s*['"`]%|startsWith\([^)]*scopePath|starts_with\(|like\s*\$\{\s*scope\b|(?<!function )isWithinScope\(/;

describe('ledger core', () => {
  it('writes journal entries and postings only through src/app/ledger/journal-writer.ts', async () => {
    for (const line of [
      "await trx.insertInto('journal_entry').values(row).execute();",
      '  insert into posting (customer_id, journal_entry_id, line_no) select 1, 2, 3',
      "await copyRows(trx, 'posting', columns, rows);",
      'rows.journal_entry.push({ customer_id: 1 });',
      '  journal_entry: { customer_id: "bigint" },',
    ])
      expect(JOURNAL_WRITE.test(line), line).toBe(true);
    expect(JOURNAL_WRITE.test("  .selectFrom('posting')")).toBe(false);
    const files = (await sourceFiles('src')).filter(
      (file) => file !== path.join('src', 'app', 'ledger', 'journal-writer.ts'),
    );
    expect(await offenders(files, JOURNAL_WRITE)).toEqual([]);
  });

  it('writes the org-scope condition only in src/app/ledger/scope.ts', async () => {
    for (const line of [
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a sample source line
      "    .where('station.path', 'like', `${principal.scopePath}%`)",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a sample source line
      '      and team.path like ${`${principal.scopePath}%`}',
      '  if (!row?.path.startsWith(principal.scopePath))',
      '        join c on c.customer_no = x.n and starts_with(c.path, x.s)',
      '  if (!isWithinScope(principal.scopePath, customer.path)) throw error;',
    ])
      expect(HAND_WRITTEN_SCOPE.test(line), line).toBe(true);
    // The pure predicate (isWithinScope in src/domain/staff-role.ts) and the rule that applies it.
    const allowed = [
      path.join('src', 'app', 'ledger', 'scope.ts'),
      path.join('src', 'domain', 'staff-role.ts'),
    ];
    const files = (await sourceFiles('src')).filter((file) => !allowed.includes(file));
    expect(await offenders(files, HAND_WRITTEN_SCOPE)).toEqual([]);
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
