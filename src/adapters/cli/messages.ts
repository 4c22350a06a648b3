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
    keysRotatedDefault:
      '密钥轮换完成: {from} → {to}, 重新加密 {count} 个值。默认密钥文件 {file} 现存新密钥, 旧密钥备份在 {backup} (0600); 请备份新密钥, 确认无误后销毁旧密钥备份',
    keysAlreadyRotatedDefault:
      '数据库已使用密钥 {to}, 未重新加密。默认密钥文件 {file} 现存新密钥, 旧密钥备份在 {backup} (0600)',
    demoPlatformSecret: '示范支付平台渠道 {code} 的密钥 (随机生成, 仅显示这一次, 数据库中加密保存): {secret}',
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
    rebillRequested:
      '退补申请 {request} 已提交 ({customer}), 待另一人审批: gridcollect bill rebill-approve --customer {customer} --request {request}',
    rebilled: '退补完成: {old} ({oldAmount} 元) 已冲销, 新账单 {new} ({newAmount} 元)',
    tariffsImported: '电价导入: {tariffs} 个电价, 新增版本 {added} 个, 未变 {unchanged} 个',
    readsImported: '{file}: {rows} 条示数, 新导入 {imported} 条, 已导入过 {already} 条',
    readsCorrectionHeld:
      '{file} 第 {line} 行: 表 {meter} ({customer}) {period} 示数与已接受的不一致 ({old} → {new}), 作为待复核更正挂起 ({code}), 未计费; 由电费审核员确认或驳回{billed}',
    readsCorrectionBilled: '; 该期已出账, 确认后须走退补',
    demoBilling: '示范县逐月核算发行',
    demoBilled:
      '已逐月核算并发行 {periods} 个月: {bills} 张电费单, 审核处理异常 {resolved} 条; 收费 {payments} 笔 (其中银行代扣 {withheld} 笔)',
    billed: '{period} 核算完成: 出账 {billed} 户, 挂起待审 {held} 户, 失败 {failed} 户, 应收 {amount} 元',
    released: '{period} 电费发行: {released} 张电费单, 合计 {amount} 元',
    demoMonthReady:
      '示范县 {period} 已核算、发行并收费 ({done}/{total} 个月, 用时 {seconds} 秒), 页面已可查看',
    demoFailed: '示范县历史月份生成中断: {error} (下次 npm start 从中断处继续)',
    notLoggedIn: '未登录: 请先运行 gridcollect login <登录名> (not logged in: run gridcollect login)',
    sessionEnded: '{login} 的登录会话已过期或被注销: 请重新运行 gridcollect login {login}',
    loggedIn: '已登录: {login} ({name}), 会话有效至 {expires}',
    loggedOut: '已退出登录',
    notLoggedInNow: '当前未登录',
    whoami: '{login} ({name}) 角色: {roles}; 范围: {scope}; 操作系统用户: {osUser}',
    staffAdded: '已添加员工 {login} (编号 {staffId})',
    staffDisabled: '已停用 {login}, 结束 {sessions} 个会话',
    staffEnabled: '已启用 {login}',
    passwordReset: '已重设 {login} 的密码, 结束 {sessions} 个会话',
    passwordChanged: '密码已修改 ({login}); 其他 {sessions} 个会话已结束',
    adminCreated: '已创建首位管理员 {login} (单位 {org}); 请用 gridcollect login {login} 登录',
    passwordPrompt: '密码: ',
    oldPasswordPrompt: '当前密码: ',
    newPasswordPrompt: '新密码: ',
    repeatPasswordPrompt: '再次输入新密码: ',
    passwordsDiffer: '两次输入的新密码不一致',
    noTerminal: '没有终端可输入密码: 请使用 --password-stdin',
    dataDirHeld: '数据目录 {dataDir} 正被进程 {pid}{host} ({command}, 自 {since} 起) 独占使用',
    dataDirUnreadable: '数据目录 {dataDir} 已被其他操作系统用户的进程锁定 ({lockDir} 无权读取)',
    waitForHolder:
      '嵌入式数据库同一时间只允许一个进程打开: 请等该进程结束 (或停止它: kill {pid}) 后重试; 多个进程同时工作请使用 PostgreSQL (DATABASE_URL)',
    serverUnreachable:
      '服务 (PID {pid}) 持有数据目录, 但其命令通道 {socket} 无应答 (可能正在启动或停止); 请稍后重试',
    serverRefuses: '服务 (PID {pid}) 运行期间, 此命令不能转交给它执行: 请先停止服务 (kill {pid}) 再运行',
    hintBillRun: '服务运行时可在网页或通过 API (POST /api/v1/billing/runs) 发起核算',
    hintBatch: '批处理任务在服务停止后运行, 或改用 PostgreSQL 以便多个进程同时工作',
    forwardable: '服务运行时可用的命令 (转交服务执行): {commands}',
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
    keysRotatedDefault:
      'Key rotated: {from} → {to}, {count} values re-encrypted. The default key file {file} now holds the new key; the old key is kept in {backup} (0600): back up the new key, then destroy the old copy',
    keysAlreadyRotatedDefault:
      'The database is already under key {to}: nothing re-encrypted. The default key file {file} now holds the new key; the old key is kept in {backup} (0600)',
    demoPlatformSecret:
      'Secret of the demo payment platform channel {code} (random, shown only this once, stored encrypted): {secret}',
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
    rebillRequested:
      'Rebill request {request} for {customer} is waiting for a second person: gridcollect bill rebill-approve --customer {customer} --request {request}',
    rebilled: 'Rebilled: {old} ({oldAmount} yuan) reversed, new bill {new} ({newAmount} yuan)',
    tariffsImported: 'Tariffs imported: {tariffs} tariffs, {added} versions added, {unchanged} unchanged',
    readsImported: '{file}: {rows} reads, {imported} imported, {already} already imported',
    readsCorrectionHeld:
      '{file} line {line}: meter {meter} ({customer}) {period} disagrees with the accepted read ({old} → {new}); held as a correction for a checker ({code}), not billed until confirmed or rejected{billed}',
    readsCorrectionBilled: '; the period is billed: after confirmation, rebill it',
    demoBilling: 'Billing the demo months',
    demoBilled:
      'Billed and released {periods} months: {bills} bills, {resolved} read exceptions resolved by checkers; {payments} payments collected ({withheld} by bank withholding)',
    billed: '{period} billed: {billed} bills, {held} held for review, {failed} failed, {amount} yuan',
    released: '{period} released: {released} bills, {amount} yuan',
    demoMonthReady:
      'Demo county {period} billed, released and collected ({done}/{total} months, {seconds} s); it is on the page now',
    demoFailed: 'The demo history stopped: {error} (the next npm start resumes it)',
    notLoggedIn: 'not logged in: run gridcollect login <login> (未登录: 请先运行 gridcollect login)',
    sessionEnded:
      'the login session of {login} has expired or was ended: run gridcollect login {login} again',
    loggedIn: 'Logged in: {login} ({name}), session valid until {expires}',
    loggedOut: 'Logged out',
    notLoggedInNow: 'Not logged in',
    whoami: '{login} ({name}) roles: {roles}; scope: {scope}; OS user: {osUser}',
    staffAdded: 'Staff member {login} added (id {staffId})',
    staffDisabled: '{login} disabled; {sessions} session(s) ended',
    staffEnabled: '{login} enabled',
    passwordReset: 'Password of {login} reset; {sessions} session(s) ended',
    passwordChanged: 'Password changed ({login}); {sessions} other session(s) ended',
    adminCreated: 'First administrator {login} created (org {org}); log in with gridcollect login {login}',
    passwordPrompt: 'Password: ',
    oldPasswordPrompt: 'Current password: ',
    newPasswordPrompt: 'New password: ',
    repeatPasswordPrompt: 'New password again: ',
    passwordsDiffer: 'the two new passwords differ',
    noTerminal: 'no terminal to type a password on: use --password-stdin',
    dataDirHeld: 'the data directory {dataDir} is held by process {pid}{host} ({command}, since {since})',
    dataDirUnreadable:
      'the data directory {dataDir} is locked by another OS user’s process ({lockDir} is not readable)',
    waitForHolder:
      'only one process at a time may open the embedded database: wait for it to finish (or stop it: kill {pid}) and retry; for several processes at once use PostgreSQL (DATABASE_URL)',
    serverUnreachable:
      'server unreachable; retry: the server (PID {pid}) holds the data directory but does not answer on {socket} (starting or stopping?)',
    serverRefuses:
      'while the server (PID {pid}) runs, this command cannot be handed to it: stop the server (kill {pid}) and run it again',
    hintBillRun:
      'while the server runs, start a billing run in the web UI or through the API (POST /api/v1/billing/runs)',
    hintBatch:
      'batch jobs run while the server is stopped, or on PostgreSQL where several processes may work at once',
    forwardable: 'commands that work while the server runs (handed to it): {commands}',
  },
} as const;

export type Lang = keyof typeof MESSAGES;
export type MessageKey = keyof (typeof MESSAGES)['en'];

export function message(lang: Lang, key: MessageKey, values: Record<string, string | number> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (_match, name: string) =>
    String(values[name] ?? `{${name}}`),
  );
}
