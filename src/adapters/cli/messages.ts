/** CLI messages in zh-CN (default) and English. */
const MESSAGES = {
  'zh-CN': {
    demoBuilding: '正在生成示范县',
    demoDone:
      '示范县已生成: {stations} 个供电所, {areas} 个台区, {staff} 名员工, {customers} 户, {reads} 条抄表示数 ({first} 至 {last})',
    demoExists: '示范县已存在 ({customers} 户, {first} 至 {last}), 未做任何改动',
    demoResumed: '继续上次未完成的生成',
    keysRotated:
      '密钥轮换完成: {from} → {to}, 重新加密 {count} 个值。请设置 GRIDCOLLECT_ENCRYPTION_KEY_FILE={file} (并删除旧密钥) 后再启动服务',
    keysAlreadyRotated: '数据库已使用密钥 {to}, 未做任何改动。请设置 GRIDCOLLECT_ENCRYPTION_KEY_FILE={file}',
    demoPlatformSecret: '示范支付平台渠道 {code} 的密钥 (随机生成, 仅显示这一次, 数据库中加密保存): {secret}',
    migrated: '已应用迁移: {versions}',
    upToDate: '数据库结构已是最新',
    serving: 'GridCollect 已启动: {url}  (API 文档: {url}docs)',
    demoLogin: '示范登录: 用户名 {login} 密码 {password} (供电所所长: s01.head, 收费员: s01.cashier1)',
    stopping: '正在停止…',
    channelSaved: '渠道 {id} 已登记并启用',
    workerDone: '工作进程完成 {count} 个分区',
    customers: '户',
    noRows: '(无记录)',
    startEmpty: '数据库为空, 先生成示范县 ({customers} 户 × {months} 个月)',
    billing: '电费核算',
    paymentReversed: '已冲正: 收据 {receipt}',
    ledgerVerified: '账务核对: {entries} 笔分录, {postings} 条明细, 问题 {problems} 个',
    paymentPosted: '收费成功: 收据 {receipt}, 户号 {customer}, 金额 {amount} 元, 转预收 {prepaid} 元',
    rebilled: '退补完成: {old} ({oldAmount} 元) 已冲销, 新账单 {new} ({newAmount} 元)',
    tariffsImported: '电价导入: {tariffs} 个电价, 新增版本 {added} 个, 未变 {unchanged} 个',
    readsImported: '{file}: {rows} 条示数, 新导入 {imported} 条, 已导入过 {already} 条',
    demoBilling: '示范县逐月核算发行',
    demoBilled:
      '已逐月核算并发行 {periods} 个月: {bills} 张电费单, 审核处理异常 {resolved} 条; 收费 {payments} 笔 (其中银行代扣 {withheld} 笔)',
    billed: '{period} 核算完成: 出账 {billed} 户, 挂起待审 {held} 户, 失败 {failed} 户, 应收 {amount} 元',
    released: '{period} 电费发行: {released} 张电费单, 合计 {amount} 元',
  },
  en: {
    demoBuilding: 'Building the demo county',
    demoDone:
      'Demo county ready: {stations} stations, {areas} transformer areas, {staff} staff, {customers} customers, {reads} meter reads ({first} to {last})',
    demoExists: 'The demo county already exists ({customers} customers, {first} to {last}); nothing changed',
    demoResumed: 'Resuming an unfinished build',
    keysRotated:
      'Key rotated: {from} → {to}, {count} values re-encrypted. Set GRIDCOLLECT_ENCRYPTION_KEY_FILE={file} (and destroy the old key) before starting the server',
    keysAlreadyRotated:
      'The database is already under key {to}; nothing changed. Set GRIDCOLLECT_ENCRYPTION_KEY_FILE={file}',
    demoPlatformSecret:
      'Secret of the demo payment platform channel {code} (random, shown only this once, stored encrypted): {secret}',
    migrated: 'Applied migrations: {versions}',
    upToDate: 'The schema is up to date',
    serving: 'GridCollect is running: {url}  (API docs: {url}docs)',
    demoLogin: 'Demo login: user {login} password {password} (station head: s01.head, cashier: s01.cashier1)',
    stopping: 'Stopping…',
    channelSaved: 'Channel {id} registered and enabled',
    workerDone: 'Worker finished {count} partitions',
    customers: 'customers',
    noRows: '(no rows)',
    startEmpty:
      'The database is empty: building the demo county first ({customers} customers × {months} months)',
    billing: 'Billing run',
    paymentReversed: 'Reversed: receipt {receipt}',
    ledgerVerified: 'Ledger check: {entries} entries, {postings} postings, {problems} problem(s)',
    paymentPosted:
      'Payment posted: receipt {receipt}, customer {customer}, {amount} yuan, {prepaid} yuan to prepaid balance',
    rebilled: 'Rebilled: {old} ({oldAmount} yuan) reversed, new bill {new} ({newAmount} yuan)',
    tariffsImported: 'Tariffs imported: {tariffs} tariffs, {added} versions added, {unchanged} unchanged',
    readsImported: '{file}: {rows} reads, {imported} imported, {already} already imported',
    demoBilling: 'Billing the demo months',
    demoBilled:
      'Billed and released {periods} months: {bills} bills, {resolved} read exceptions resolved by checkers; {payments} payments collected ({withheld} by bank withholding)',
    billed: '{period} billed: {billed} bills, {held} held for review, {failed} failed, {amount} yuan',
    released: '{period} released: {released} bills, {amount} yuan',
  },
} as const;

export type Lang = keyof typeof MESSAGES;
export type MessageKey = keyof (typeof MESSAGES)['en'];

export function message(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (_match, name: string) =>
    String(values[name] ?? `{${name}}`),
  );
}
