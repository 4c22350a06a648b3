import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The architecture's boundaries as code (docs/ARCHITECTURE.md): a failing line here names the
// file and the rule it breaks.
const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function sourceFiles(dir: string, options: { withTests?: boolean } = {}): Promise<string[]> {
  const entries = await readdir(path.join(ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter(
      (entry) =>
        entry.isFile() &&
        entry.name.endsWith('.ts') &&
        (options.withTests || !entry.name.endsWith('.test.ts')),
    )
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

// The layers, outermost first (docs/ARCHITECTURE.md, "Layers"). A file may import its own layer
// and any layer below it, never one above: main → adapters → jobs → app → db → domain. The
// configuration is read by every layer except the domain, and imports none of them. The
// adapters' folders (cli, http, crypto, files, …) are one layer and may use one another.
const LAYERS = ['main', 'adapters', 'jobs', 'app', 'db', 'domain'] as const;
const MAY_IMPORT: Record<string, readonly string[]> = {
  ...Object.fromEntries(
    LAYERS.map((layer, k) => [layer, [...LAYERS.slice(k), ...(layer === 'domain' ? [] : ['config'])]]),
  ),
  config: ['config'],
};

/** Every module specifier of a file: static imports and re-exports, side-effect and dynamic imports. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm;

/** The layer of a path under src (its first folder), or null for anything outside src. */
function layerOf(file: string): string | null {
  const relative = path.relative(path.join(ROOT, 'src'), file).split(path.sep);
  if (relative[0] === '..' || path.isAbsolute(relative[0]!)) return null;
  return relative.length > 1 ? relative[0]! : null;
}

/**
 * Upward imports, each as "file:line: specifier → layer". Relative specifiers are resolved to the
 * file they name, so `../`, `../../` or `./x/../../` cannot slip past; a bare `src/…` specifier
 * and any relative import leaving src are offenders too.
 */
async function upwardImports(files: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const file of files) {
    const from = layerOf(path.join(ROOT, file));
    const allowed = MAY_IMPORT[from ?? ''];
    if (!allowed) {
      found.push(`${file}: not in a known layer (${LAYERS.join(', ')}, config)`);
      continue;
    }
    const text = await readFile(path.join(ROOT, file), 'utf8');
    for (const match of text.matchAll(SPECIFIER)) {
      const specifier = match[1]!;
      const line = text.slice(0, match.index).split('\n').length;
      let target: string | null;
      if (specifier.startsWith('.')) target = layerOf(path.resolve(ROOT, path.dirname(file), specifier));
      else if (/^src\//.test(specifier)) target = null;
      else continue; // a package: the rules below name the ones a layer may not use
      if (target === null || !allowed.includes(target))
        found.push(`${file}:${line}: ${specifier} → ${target ?? 'outside src'}`);
    }
  }
  return found;
}

describe('layers', () => {
  it('lets no layer import a layer above it (main → adapters → jobs → app → db → domain)', async () => {
    const files = await sourceFiles('src', { withTests: true });
    expect(files.length).toBeGreaterThan(100);
    expect(await upwardImports(files)).toEqual([]);
  });

  it('catches upward imports however their paths are written', async () => {
    const dir = await mkdtemp(path.join(ROOT, 'src', 'domain', '.tidy-'));
    const probe = path.relative(ROOT, path.join(dir, 'probe.ts'));
    try {
      await writeFile(
        path.join(ROOT, probe),
        [
          "import type { AppContext } from '../../app/app-context.js';",
          "import { x } from '../money.js';",
          "export { y } from '../../../src/db/schema.js';",
          "const z = await import('../../adapters/http/server.js');",
          "import '../../main/cli.js';",
        ].join('\n'),
      );
      expect(await upwardImports([probe])).toEqual([
        `${probe}:1: ../../app/app-context.js → app`,
        `${probe}:3: ../../../src/db/schema.js → db`,
        `${probe}:4: ../../adapters/http/server.js → adapters`,
        `${probe}:5: ../../main/cli.js → main`,
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('architecture boundaries', () => {
  it('keeps src/domain pure: no I/O, clock, randomness or environment (its imports: see layers)', async () => {
    const files = await sourceFiles('src/domain');
    expect(files.length).toBeGreaterThan(0);
    expect(await offenders(files, /from 'node:|from '(pg|kysely|fastify|@electric-sql\/pglite)'/)).toEqual(
      [],
    );
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
    expect(await offenders(files, /from '(fastify|commander|cli-progress|@fastify\/[a-z-]+)'/)).toEqual([]);
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
const CUSTOMER_STATE_READ =
  /\bkind\s*=\s*'principal'|\breplaces_bill_id\s*=\s*\w+\.bill_id|ledger_account_code\s*(=|in)\s*\(?\s*'(customer_prepaid|customer_deposit|customer_receivable|late_fee_receivable)'|['"](\w+\.)?ledger_account_code['"]\s*,\s*['"](=|in)['"]\s*,\s*\[?\s*['"](customer_prepaid|customer_deposit|customer_receivable|late_fee_receivable)/;
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

  it('reads what a customer owes (open bills, settled principal, latest revision, held balances) only in src/app/ledger/customer-state.ts', async () => {
    for (const line of [
      "        where al.customer_id = b.customer_id and al.bill_id = b.bill_id and al.kind = 'principal'), 0)",
      '      and not exists (select 1 from bill n where n.customer_id = b.customer_id and n.replaces_bill_id = b.bill_id)',
      "    where p.customer_id = any($1) and p.ledger_account_code = 'customer_prepaid'",
      "          .where('posting.ledger_account_code', 'in', ['customer_receivable', 'late_fee_receivable'])",
    ])
      expect(CUSTOMER_STATE_READ.test(line), line).toBe(true);
    expect(CUSTOMER_STATE_READ.test("  postings.push({ account: 'customer_prepaid', amountFen })")).toBe(
      false,
    );
    expect(CUSTOMER_STATE_READ.test("  if (allocation.kind === 'principal') total += 1;")).toBe(false);
    // verify-ledger re-derives the balances from the raw rows on purpose: it checks this module.
    const allowed = [
      path.join('src', 'app', 'ledger', 'customer-state.ts'),
      path.join('src', 'app', 'queries', 'verify-ledger.ts'),
    ];
    const files = (await sourceFiles('src')).filter((file) => !allowed.includes(file));
    expect(await offenders(files, CUSTOMER_STATE_READ)).toEqual([]);
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

// The HTTP routes' one source of truth for types and JSON Schema is TypeBox (with the TypeBox
// type provider): request and response types derive from the schemas. A route file may not fall
// back to the untyped plugin, a hand-written route generic, or an open success response.
const ROUTE_TYPE_RULES: readonly (readonly [RegExp, string])[] = [
  [/\bFastifyPluginAsync\b/g, 'FastifyPluginAsync (use FastifyPluginAsyncTypebox)'],
  [
    /\b(?:app|fastify|instance|server)\s*\.\s*(?:get|post|put|patch|delete|head|options|all|route)\s*</g,
    'hand-written route generic (derive the types from the TypeBox schema)',
  ],
  [/\b2\d\d\s*:\s*Type\s*\.\s*Unknown\s*\(/g, 'success response Type.Unknown() (give it its schema)'],
];

/** Each breach of the route-typing rules in a route file's text, as "file:line: rule". */
function routeTypeOffenders(file: string, text: string): string[] {
  const found: string[] = [];
  for (const [pattern, rule] of ROUTE_TYPE_RULES) {
    for (const match of text.matchAll(pattern)) {
      const line = text.slice(0, match.index).split('\n').length;
      const content = text.split('\n')[line - 1]!.trim();
      if (!content.startsWith('//') && !content.startsWith('*')) found.push(`${file}:${line}: ${rule}`);
    }
  }
  return found;
}

describe('HTTP routes', () => {
  it('type every route from its TypeBox schema: no FastifyPluginAsync, route generics or open success responses', async () => {
    const files = await sourceFiles('src/adapters/http/routes');
    expect(files.length).toBeGreaterThan(5);
    const found: string[] = [];
    for (const file of files)
      found.push(...routeTypeOffenders(file, await readFile(path.join(ROOT, file), 'utf8')));
    expect(found).toEqual([]);
  });

  it('catches each kind of untyped route, also across lines', () => {
    const probe = [
      "import type { FastifyPluginAsync } from 'fastify';",
      'app.get<{ Params: { id: string } }>(',
      "app\n  .post<{ Body: X }>('/x', {",
      'response: { 200: Type.Unknown(), 201:',
      '  Type.Unknown(), 404: Type.Unknown() },',
      '// response: { 200: Type.Unknown() } in a comment is fine',
      'export function ok(): FastifyPluginAsyncTypebox {}',
    ].join('\n');
    expect(routeTypeOffenders('probe.ts', probe)).toEqual([
      'probe.ts:1: FastifyPluginAsync (use FastifyPluginAsyncTypebox)',
      'probe.ts:2: hand-written route generic (derive the types from the TypeBox schema)',
      'probe.ts:3: hand-written route generic (derive the types from the TypeBox schema)',
      'probe.ts:5: success response Type.Unknown() (give it its schema)',
      'probe.ts:5: success response Type.Unknown() (give it its schema)',
    ]);
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
