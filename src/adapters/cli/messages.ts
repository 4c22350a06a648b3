/** CLI messages in zh-CN (default) and English. */
const MESSAGES = {
  'zh-CN': {
    demoBuilding: '正在生成示范县',
    demoDone:
      '示范县已生成: {stations} 个供电所, {areas} 个台区, {staff} 名员工, {customers} 户, {reads} 条抄表示数 ({first} 至 {last})',
    demoExists: '示范县已存在 ({customers} 户, {first} 至 {last}), 未做任何改动',
    demoResumed: '继续上次未完成的生成',
    migrated: '已应用迁移: {versions}',
    upToDate: '数据库结构已是最新',
    runtimeGranted: '已授予运行角色 {role} 应用所需的权限',
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
    demoMonthReady:
      '示范县 {period} 已核算、发行并收费 ({done}/{total} 个月, 用时 {seconds} 秒), 页面已可查看',
    demoFailed: '示范县历史月份生成中断: {error} (下次 npm start 从中断处继续)',
  },
  en: {
    demoBuilding: 'Building the demo county',
    demoDone:
      'Demo county ready: {stations} stations, {areas} transformer areas, {staff} staff, {customers} customers, {reads} meter reads ({first} to {last})',
    demoExists: 'The demo county already exists ({customers} customers, {first} to {last}); nothing changed',
    demoResumed: 'Resuming an unfinished build',
    migrated: 'Applied migrations: {versions}',
    upToDate: 'The schema is up to date',
    runtimeGranted: 'Runtime role {role} granted the privileges the application needs',
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
    demoMonthReady:
      'Demo county {period} billed, released and collected ({done}/{total} months, {seconds} s); it is on the page now',
    demoFailed: 'The demo history stopped: {error} (the next npm start resumes it)',
  },
} as const;

export type Lang = keyof typeof MESSAGES;
export type MessageKey = keyof (typeof MESSAGES)['en'];

export function message(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (_match, name: string) =>
    String(values[name] ?? `{${name}}`),
  );
}
