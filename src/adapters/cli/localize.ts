import { AsyncLocalStorage } from 'node:async_hooks';
import { type Command, Help, type Option } from 'commander';
import { ERROR_TITLES_ZH } from '../../app/error-titles.js';
import type { AppError } from '../../app/errors.js';
import { HELP_ZH } from './help-zh.js';
import type { Lang } from './messages.js';
import { COLUMNS_ZH, ENUM_COLUMNS, VALUES_ZH } from './table-zh.js';

// The one place the CLI's own English texts (help, commander's errors, table headers and enum
// cells, error titles) become zh-CN. The command files keep registering English; these functions
// translate at the edge, so `--json` (the machine contract) never changes.

const currentLang = new AsyncLocalStorage<Lang>();

/** Runs one CLI invocation in a language: tables printed inside it use that language. */
export function runInLang<T>(lang: Lang, work: () => Promise<T>): Promise<T> {
  return currentLang.run(lang, work);
}

/** The language of the invocation running now; English outside one (e.g. the server's own code). */
export function tableLang(): Lang {
  return currentLang.getStore() ?? 'en';
}

/** A column header in the current language. */
export function columnHeader(column: string): string {
  return tableLang() === 'zh-CN' ? (COLUMNS_ZH[column] ?? column) : column;
}

/** A cell in the current language: enum codes and yes/no of the enum columns become zh-CN. */
export function cellText(column: string, value: unknown): string {
  const text = String(value ?? '');
  if (tableLang() !== 'zh-CN' || !ENUM_COLUMNS.has(column)) return text;
  return text
    .split(',')
    .map((part) => VALUES_ZH[part] ?? part)
    .join(',');
}

const TITLES_ZH: Readonly<Record<string, string>> = {
  'Usage:': '用法:',
  'Options:': '选项:',
  'Global Options:': '全局选项:',
  'Commands:': '命令:',
  'Arguments:': '参数:',
};
const HELP_TEXT = 'display help for command';

/** zh-CN text for a help description; English (unchanged) when the dictionary has none. */
export function helpZh(text: string): string {
  return HELP_ZH[text] ?? text;
}

/** Every command of the tree, the root first. */
export function allCommands(program: Command): Command[] {
  return [program, ...program.commands.flatMap((command) => allCommands(command))];
}

/**
 * Puts the tree's help and commander's error messages in the language. Called once the groups are
 * registered; in English it leaves everything as the command files wrote it.
 */
export function localizeProgram(program: Command, lang: Lang): void {
  if (lang !== 'zh-CN') return;
  const help = {
    styleTitle: (title: string) => TITLES_ZH[title] ?? title,
    commandUsage: (command: Command) =>
      Help.prototype.commandUsage
        .call(new Help(), command)
        .replace('[options]', '[选项]')
        .replace('[command]', '[命令]'),
    subcommandTerm: (command: Command) =>
      Help.prototype.subcommandTerm.call(new Help(), command).replace('[options]', '[选项]'),
    optionDescription: (option: Option) =>
      Help.prototype.optionDescription
        .call(new Help(), option)
        .replace('(choices: ', '(可选值: ')
        .replace('default: ', '默认: '),
  };
  for (const command of allCommands(program)) {
    command.description(helpZh(command.description()));
    for (const option of command.options) option.description = helpZh(option.description);
    for (const argument of command.registeredArguments) argument.description = helpZh(argument.description);
    command.helpOption('-h, --help', helpZh(HELP_TEXT));
    if (command.commands.length > 0) command.helpCommand('help [command]', helpZh(HELP_TEXT));
    command.configureHelp(help);
    command.configureOutput({
      outputError: (text, write) => write(commanderErrorZh(text)),
    });
  }
}

/** Commander's error messages (and the option parsers' reasons) in zh-CN. */
const COMMANDER_ZH: readonly (readonly [RegExp, string])[] = [
  [/^error: required option '(.+)' not specified/m, "错误: 缺少必需的选项 '$1'"],
  [/^error: unknown command '(.+?)'/m, "错误: 未知命令 '$1'"],
  [/^error: unknown option '(.+?)'/m, "错误: 未知选项 '$1'"],
  [/^error: option '(.+)' argument '(.*)' is invalid\./m, "错误: 选项 '$1' 的值 '$2' 无效:"],
  [/^error: option '(.+)' argument missing/m, "错误: 选项 '$1' 缺少值"],
  [/^error: missing required argument '(.+)'/m, "错误: 缺少必需的参数 '$1'"],
  [
    /^error: command-argument value '(.*)' is invalid for argument '(.+)'\./m,
    "错误: 参数 '$2' 的值 '$1' 无效:",
  ],
  [
    /^error: too many arguments(?: for '(.+)')?\. Expected (\d+) arguments? but got (\d+)\./m,
    '错误: 参数过多 ($1): 应为 $2 个, 实际 $3 个',
  ],
  [/^error: (.+) cannot be used with (.+)$/m, '错误: $1 不能与 $2 同时使用'],
  [/Allowed choices are (.+)\./, '可选值为 $1'],
  [/\(Did you mean (.+)\?\)/, '(是否想输入 $1?)'],
  [/must be a positive integer/, '须为正整数'],
  [/must be an integer/, '须为整数'],
  [/must be YYYY-MM-DD/, '须为日期 YYYY-MM-DD'],
  [/must be YYYY-MM/, '须为月份 YYYY-MM'],
  [/must be a positive yuan amount, e\.g\. (\S+)/, '须为大于 0 的元金额, 如 $1'],
  [/must be yuan above 0 with at most 2 decimals, e\.g\. (\S+)/, '须为大于 0、最多两位小数的元金额, 如 $1'],
  [/must be a request number/, '须为申请编号'],
  [/must be a share from 0 to 1/, '须为 0 到 1 之间的比例'],
  [/must be a whole number from 1 to 100000/, '须为 1 到 100000 之间的整数'],
  [/must be a whole number ≥ 0/, '须为不小于 0 的整数'],
  [/must be at least 1/, '须不小于 1'],
];

export function commanderErrorZh(text: string): string {
  return COMMANDER_ZH.reduce((result, [pattern, zh]) => result.replace(pattern, zh), text);
}

/** How an error of the catalogue reads on standard error: zh-CN title, code, then the detail. */
export function appErrorText(error: AppError, lang: Lang): string {
  return lang === 'zh-CN'
    ? `${ERROR_TITLES_ZH[error.code]} (${error.code}): ${error.message}`
    : `${error.code}: ${error.message}`;
}

/** The kinds of CLI errors that are not in the catalogue, titled in zh-CN. */
const CLI_ERROR_TITLES_ZH = {
  input: '输入数据有误',
  config: '配置错误',
  usage: '用法错误',
  itemsFailed: '部分条目处理失败',
  internal: '内部错误',
} as const;

export function cliErrorText(kind: keyof typeof CLI_ERROR_TITLES_ZH, detail: string, lang: Lang): string {
  return lang === 'zh-CN' ? `${CLI_ERROR_TITLES_ZH[kind]}: ${detail}` : detail;
}
