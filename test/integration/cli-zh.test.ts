import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/app/app-context.js';
import { HELP_ZH } from '../../src/adapters/cli/help-zh.js';
import { allCommands } from '../../src/adapters/cli/localize.js';
import { buildProgram, type CliIo, runCli } from '../../src/adapters/cli/program.js';
import { parseConfig } from '../../src/config/config.js';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';

// The CLI in zh-CN (the default language) everywhere, not only on success: help, commander's usage
// errors, catalogue errors, table headers and enum cells; `--json` stays the English machine contract.

const NO_OPEN: CliIo['openContext'] = async () => {
  throw new Error('this test opens no database');
};

/** Runs the CLI in-process in a language (GRIDCOLLECT_LANG), optionally against a test database. */
async function cli(lang: 'zh-CN' | 'en', database: TestDatabase | undefined, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const env = { GRIDCOLLECT_LANG: lang, GRIDCOLLECT_DATA_DIR: '/nonexistent/gridcollect-cli-zh' };
  const code = await runCli(argv, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    config: () => parseConfig(env),
    openContext: NO_OPEN,
    ...(database ? { context: () => ({ config: parseConfig(env), database }) as unknown as AppContext } : {}),
  });
  return { code, stdout, stderr };
}

describe('CLI help in zh-CN', () => {
  it('has zh-CN text for every command, option and argument registered in the tree', () => {
    const program = buildProgram({ out: () => {}, err: () => {}, openContext: NO_OPEN });
    const missing: string[] = [];
    const need = (where: string, text: string) => {
      if (text && HELP_ZH[text] === undefined) missing.push(`${where}: ${JSON.stringify(text)}`);
    };
    const path = (command: Command): string =>
      command.parent ? `${path(command.parent)} ${command.name()}` : command.name();
    for (const command of allCommands(program)) {
      need(path(command), command.description());
      for (const option of command.options) need(`${path(command)} ${option.flags}`, option.description);
      for (const argument of command.registeredArguments)
        need(`${path(command)} <${argument.name()}>`, argument.description);
    }
    // Add the missing texts to src/adapters/cli/help-zh.ts.
    expect(missing).toEqual([]);
  });

  it('prints the top-level help in Chinese', async () => {
    const result = await cli('zh-CN', undefined, '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^用法: gridcollect \[选项\] \[命令\]/);
    expect(result.stdout).toContain('命令:');
    expect(result.stdout).toContain('电费核算与电费发行');
    expect(result.stdout).toContain('显示命令帮助');
    expect(result.stdout).not.toMatch(/Usage:|Options:|display help/);
  });

  it('prints a command’s help in Chinese, in English with --lang en', async () => {
    const zh = await cli('zh-CN', undefined, 'payment', 'post', '--help');
    expect(zh.code).toBe(0);
    expect(zh.stdout).toContain('用法: gridcollect payment post [选项]');
    expect(zh.stdout).toContain('为用户登记坐收或走收缴费');
    expect(zh.stdout).toMatch(/--amount <yuan>\s+金额 \(元\), 如 120\.50/);
    const en = await cli('zh-CN', undefined, '--lang', 'en', 'payment', 'post', '--help');
    expect(en.stdout).toContain('Usage: gridcollect payment post [options]');
    expect(en.stdout).toContain('amount in yuan, e.g. 120.50');
  });
});

describe('CLI usage errors in zh-CN', () => {
  it('a missing required option, an invalid value, an unknown command: Chinese, exit 2', async () => {
    const missing = await cli('zh-CN', undefined, 'bill', 'run');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("错误: 缺少必需的选项 '--period <period>'");
    expect(missing.stderr).toContain('用法: gridcollect bill run [选项]');
    const invalid = await cli('zh-CN', undefined, 'bill', 'run', '--period', '2026-13');
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("错误: 选项 '--period <period>' 的值 '2026-13' 无效: 须为月份 YYYY-MM");
    const unknown = await cli('zh-CN', undefined, 'bill', 'nonsense');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("错误: 未知命令 'nonsense'");
    expect(unknown.stdout).toBe('');
  });

  it('stays English with GRIDCOLLECT_LANG=en', async () => {
    const result = await cli('en', undefined, 'bill', 'run');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error: required option '--period <period>' not specified");
  });

  it('titles bad input data in Chinese', async () => {
    const result = await cli('zh-CN', undefined, 'calc', 'late-fee', '/nonexistent/input.json');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^gridcollect: 输入数据有误: input: cannot read \/nonexistent\/input\.json/,
    );
  });
});

describeEachDatabase('CLI tables and --station in zh-CN', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await database.db
      .insertInto('org_unit')
      .values([
        {
          org_unit_id: 1,
          parent_id: null,
          kind: 'county',
          code: 'QH',
          name: '青禾县',
          name_en: 'Qinghe',
          path: '/1/',
        },
        {
          org_unit_id: 2,
          parent_id: 1,
          kind: 'station',
          code: 'QH01',
          name: '城关供电所',
          name_en: 'Chengguan',
          path: '/1/2/',
        },
      ])
      .execute();
  });
  afterAll(async () => {
    await database.close();
  });

  it('prints table headers and enum cells in Chinese; --json keeps English keys and codes', async () => {
    const zh = await cli('zh-CN', database, 'db', 'status');
    expect(zh.code).toBe(0);
    const [header, , first] = zh.stdout.split('\n');
    expect(header).toMatch(/^版本\s+名称\s+状态\s+应用时间/);
    expect(first).toContain('已应用');
    expect(zh.stdout).not.toMatch(/\bapplied\b/);
    const en = await cli('en', database, 'db', 'status');
    expect(en.stdout.split('\n')[0]).toMatch(/^version\s+name\s+state\s+appliedAt/);
    const json = await cli('zh-CN', database, 'db', 'status', '--json');
    const enJson = await cli('en', database, 'db', 'status', '--json');
    expect(json.stdout).toBe(enJson.stdout);
    const parsed = JSON.parse(json.stdout) as { migrations: { state: string }[] };
    expect(parsed.migrations[0]).toMatchObject({ state: 'applied' });
  });

  it('takes --station by the station’s code; an unknown code is a Chinese not_found naming it', async () => {
    const known = await cli('zh-CN', database, 'customer', 'list', '--station', 'QH01', '--json');
    expect(known).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(known.stdout)).toEqual([]);
    const unknown = await cli('zh-CN', database, 'customer', 'list', '--station', 'QH99');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'gridcollect: 找不到该对象 (not_found): station: no supply station with code QH99\n',
    );
    // The county is not a station, and the internal id is not a code.
    for (const code of ['QH', '2']) {
      const wrong = await cli(
        'en',
        database,
        'bill',
        'release',
        '--period',
        '2026-01',
        '--on',
        '2026-02-01',
        '--station',
        code,
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe(`gridcollect: not_found: station: no supply station with code ${code}\n`);
    }
  });
});
