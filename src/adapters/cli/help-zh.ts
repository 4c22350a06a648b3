/**
 * zh-CN text of the CLI help, keyed by the English descriptions the command files register
 * (those stay the source). localize.ts swaps them in when the language is zh-CN; the test
 * test/unit/cli-zh.test.ts fails when a command, option or argument has no entry here.
 */
export const HELP_ZH: Readonly<Record<string, string>> = {
  'GridCollect 电费回收系统: electricity billing and fee recovery': 'GridCollect 电费回收系统',
  'message language': '提示信息语言',
  'create the demo county in an empty database (registry and months of reads)':
    '在空数据库中生成示范县 (档案与若干个月的抄表示数)',
  'number of customers': '用户户数',
  'months of reads': '抄表月数',
  'random seed': '随机种子',
  'last period with reads (default: last month)': '最后一个有抄表示数的月份 (默认: 上个月)',
  'stop after the reads; otherwise every month is also billed, its held reads resolved by the station checker, and released':
    '只生成抄表示数; 否则每个月还会核算、由供电所审核员处理挂起示数并发行',
  'partitions written at once (PostgreSQL)': '同时写入的分区数 (PostgreSQL)',
  'print one JSON document': '输出一个 JSON 文档',
  'calculation commands (JSON in, JSON out; no database)': '计算命令 (JSON 输入、JSON 输出; 不用数据库)',
  'price one bill from a tariff and usage (FILE, or - for standard input)':
    '按电价和用电量计算一张电费单 (FILE, 或 - 表示标准输入)',
  'JSON input file, or - for standard input': 'JSON 输入文件, 或 - 表示标准输入',
  'late fee (违约金) for overdue items as of a date (FILE, or - for standard input)':
    '计算逾期款项截至某日的违约金 (FILE, 或 - 表示标准输入)',
  'billing run (电费核算) and release (电费发行)': '电费核算与电费发行',
  'bill every customer due in the period (drafts); customers with held reads go to the exception queue':
    '核算本期所有应出账用户 (草稿); 示数挂起的用户进入异常队列',
  'billing period YYYY-MM': '电费月份 YYYY-MM',
  'only this supply station (org unit code, e.g. QH01)': '只处理该供电所 (单位编码, 如 QH01)',
  'run the real path and roll it back': '按真实流程运行后回滚',
  'partitions at once (PostgreSQL)': '同时处理的分区数 (PostgreSQL)',
  'customers per partition of a new run (default 5000; a running run keeps its own)':
    '新核算批次每个分区的户数 (默认 5000; 进行中的批次沿用原值)',
  'release the period’s reviewed drafts: bill numbers, due dates, receivables':
    '发行本期已审核的草稿: 生成账单号、缴费期限和应收',
  'release date (default: today)': '发行日期 (默认: 今天)',
  'ask for a rebill (退补) of a released bill, with the reason; a second person approves it (bill rebill-approve)':
    '申请对已发行的电费单退补, 注明原因; 由另一人审批 (bill rebill-approve)',
  'approve a rebill request (not by its requester): reverse the bill and issue the next revision':
    '审批退补申请 (不得由申请人本人审批): 冲销原单并出具新版本',
  'the rebill request number': '退补申请编号',
  'customer number (户号)': '户号',
  'why the bill is wrong': '电费单错误的原因',
  'date of the corrected bill (default: today)': '更正后电费单的日期 (默认: 今天)',
  'write a customer’s bill for a period as a PDF (电费通知单)': '将用户某月的电费通知单写成 PDF',
  'PDF file to write': '要写入的 PDF 文件',
  'write a transformer area’s bill list for the rural electrician as a PDF (台区电费清单)':
    '为农电工将台区电费清单写成 PDF',
  'transformer area code': '台区编码',
  'meter reads': '抄表示数',
  'import a file of meter reads (manual rounds, handheld terminals, or the AMI feed); the whole file or nothing':
    '导入抄表示数文件 (人工抄表、抄表机或用电信息采集系统); 整个文件要么全部导入, 要么都不导入',
  'file layout': '文件格式',
  'CSV file (UTF-8)': 'CSV 文件 (UTF-8)',
  'actual-read rate (实抄率) and read error rate per station or meter reader':
    '按供电所或抄表员统计实抄率和抄表差错率',
  'period YYYY-MM': '月份 YYYY-MM',
  'group by': '分组依据',
  'tariffs (电价) as versioned data': '电价 (分版本管理的数据)',
  'import tariffs and versions from a JSON file; overlapping versions are refused':
    '从 JSON 文件导入电价及其版本; 时间重叠的版本被拒绝',
  'JSON file: {"tariffs": [{code, name, category, structure, versions: [...]}]}':
    'JSON 文件: {"tariffs": [{code, name, category, structure, versions: [...]}]}',
  'tariffs with their versions': '电价及其版本',
  'payments (缴费)': '缴费',
  'write a payment’s electronic receipt as a PDF (电子收费凭证)': '将一笔缴费的电子收费凭证写成 PDF',
  'receipt number': '收据号',
  'post a counter or collector payment for a customer (late fees and oldest bills first, the rest prepaid)':
    '为用户登记坐收或走收缴费 (先抵违约金和最早的电费, 余额转预收)',
  'amount in yuan, e.g. 120.50': '金额 (元), 如 120.50',
  'receipt number or other unique key: posting it again returns the first result':
    '收据号或其他唯一键: 重复登记返回第一次的结果',
  'the cashier or collector who took the money': '收款的收费员或走收员',
  'where the money is': '款项所在',
  'business date (default: today)': '营业日期 (默认: 今天)',
  'reverse (冲正) a counter or collector payment by new entries; reversing twice is refused':
    '以新分录冲正一笔坐收或走收缴费; 重复冲正被拒绝',
  'the key the payment was posted with': '该笔缴费登记时的唯一键',
  'why it is reversed': '冲正原因',
  'the staff member reversing it': '办理冲正的员工',
  'where the money was taken': '收款地点',
  'the journal and its two-person actions': '账务分录及双人审批操作',
  'check that every entry balances and agrees with bills, payments and allocations (exit 1 on problems)':
    '核对每笔分录借贷平衡且与电费单、缴费和销账一致 (有问题时退出码为 1)',
  'ask for a late-fee waiver, a bad-debt write-off or a refund; a second person decides':
    '申请减免违约金、核销呆坏账或退款; 由另一人决定',
  what: '申请事项',
  'customer number': '户号',
  'the bill (waiver, write-off)': '电费单 (减免、核销)',
  'how much (default: all that is open on the bill)': '金额 (默认: 该电费单全部未结金额)',
  'refund from': '退款来源',
  why: '原因',
  'day the open amounts are judged on (default: today)': '计算未结金额的日期 (默认: 今天)',
  'the staff member asking': '申请人',
  'approve a waiver, write-off or refund request (not by its requester)':
    '批准减免、核销或退款申请 (不能由申请人批准)',
  'request number': '申请编号',
  'day it takes effect (default: today)': '生效日期 (默认: 今天)',
  note: '备注',
  'the approver': '审批人',
  'reject a waiver, write-off or refund request (not by its requester)':
    '驳回减免、核销或退款申请 (不能由申请人驳回)',
  'pay out an approved refund by bank transfer or cash': '通过银行转账或现金支付已批准的退款',
  how: '方式',
  'the utility account paying (bank transfer)': '付款的供电企业账户 (银行转账)',
  'day paid (default: today)': '付款日期 (默认: 今天)',
  'the staff member paying out': '付款的员工',
  'a customer’s waiver, write-off and refund requests': '用户的减免、核销和退款申请',
  'database schema': '数据库结构',
  'apply pending migrations': '应用尚未执行的迁移',
  'list migrations and whether each is applied': '列出迁移及其是否已应用',
  'print the schema as committed in src/db/schema.snapshot.txt':
    '输出 src/db/schema.snapshot.txt 中提交的数据库结构',
  'print the Citus statements that distribute the schema by customer':
    '输出按用户分布数据库结构的 Citus 语句',
  customers: '用户',
  'list customers with the amount due': '列出用户及应缴金额',
  'only customers with totalDue > 0': '只列出应缴金额 (totalDue) 大于 0 的用户',
  'at most this many (default: all)': '最多列出的条数 (默认: 全部)',
  'collection channels (代收渠道)': '代收渠道',
  'register (or re-enable) a collection channel with its secret': '登记 (或重新启用) 代收渠道及其密钥',
  'channel id': '渠道编号',
  'shared secret for request signatures (16+ characters; optional for bank_batch)':
    '请求签名的共享密钥 (至少 16 个字符; bank_batch 渠道可省略)',
  'display name': '显示名称',
  'kind of channel': '渠道类型',
  'batch file encoding': '批量文件编码',
  'fee per payment in fen': '每笔手续费 (分)',
  'fee as a share of the amount, e.g. 0.001': '按金额比例收取的手续费, 如 0.001',
  'requests per second allowed': '每秒允许的请求数',
  'withholding retry rounds before the due date': '缴费期限前代扣重试的轮数',
  'business days open to a payment’s paidAt, today included (default 2: today and yesterday)':
    '缴费时间 (paidAt) 可落在的营业日数, 含今天 (默认 2: 今天和昨天)',
  'largest amount of one payment (default 1000000.00)': '单笔缴费最大金额 (默认 1000000.00)',
  'the channel registry (secrets are never shown)': '渠道登记簿 (从不显示密钥)',
  'enable a channel': '启用渠道',
  'disable a channel': '停用渠道',
  'give a channel a new secret; the old one stays valid for the overlap window':
    '为渠道更换密钥; 旧密钥在重叠期内仍有效',
  'the new secret (16+ characters)': '新密钥 (至少 16 个字符)',
  'hours the old secret stays valid': '旧密钥继续有效的小时数',
  'reconciliation discrepancies (对账差错); resolve them in the web UI or the API':
    '对账差错; 请在网页或通过 API 处理',
  'one channel': '单个渠道',
  'only these': '只看这些',
  'what each channel owes per business day, next to the journal’s channel clearing':
    '各渠道每个营业日应解缴的金额, 与账务中的渠道清算科目对照',
  'first business day (default: 30 days back)': '起始营业日 (默认: 30 天前)',
  'last business day (default: today)': '截止营业日 (默认: 今天)',
  'act as a bank against a running server: pay, retry, duplicate, reverse, reconcile':
    '模拟银行对运行中的服务缴费、重试、重复发送、冲正和对账',
  'channel id (its secret is read from the database)': '渠道编号 (密钥从数据库读取)',
  'payments to make': '缴费笔数',
  'share of payments sent twice': '重复发送的缴费比例',
  'share of payments reversed afterwards': '事后冲正的缴费比例',
  'requests in flight': '并发请求数',
  'server base URL': '服务基础 URL',
  'the channel secret (default: read from the database)': '渠道密钥 (默认: 从数据库读取)',
  'owing customers to pay for': '为之缴费的欠费用户数',
  'prefix of the txnIds (default: random, so runs never collide)':
    '交易号 (txnId) 前缀 (默认: 随机, 多次运行互不冲突)',
  'pay without querying first': '不先查询直接缴费',
  'do not upload the reconciliation file at the end': '结束时不上传对账文件',
  'batch withholding files (代扣)': '批量代扣文件',
  'write the withholding request file of a bank for a date': '生成某银行某日的代扣请求文件',
  'bank code (a bank_batch channel)': '银行编码 (bank_batch 渠道)',
  'batch date YYYY-MM-DD': '批次日期 YYYY-MM-DD',
  'directory for the file': '文件所在目录',
  'validate a bank result file and post its debited lines (re-import is a no-op)':
    '校验银行回盘文件并登记扣款成功的明细 (重复导入不做任何改动)',
  'payments posted per transaction': '每个事务登记的缴费笔数',
  'WR_<bank>_<yyyymmdd>_<batchNo>.txt': 'WR_<银行>_<yyyymmdd>_<批次号>.txt',
  'cash control (解款): deposits and cash on hand': '解款管理: 解款和库存现金',
  'record a bank deposit slip of a collector or cashier (clears their oldest cash first)':
    '登记走收员或收费员的银行解款单 (先冲抵最早的现金)',
  'the collector or cashier who deposited': '解款的走收员或收费员',
  'bank slip number': '银行进账单号',
  'amount in yuan': '金额 (元)',
  'bank account deposited into': '存入的银行账户',
  'deposit date (default: today)': '解款日期 (默认: 今天)',
  'close a cashier’s day (日清日结): compare the counted cash with the day’s counter payments':
    '收费员日清日结: 核对清点的现金与当日坐收缴费',
  'the cashier': '收费员',
  'cash counted in the drawer': '清点的现金',
  'business day (default: today)': '营业日 (默认: 今天)',
  'explanation of a difference': '差额说明',
  'cash held by each collector and cashier; overdue cash is flagged':
    '每位走收员和收费员持有的现金; 标出逾期未解款的现金',
  'policy holds (欠费不停供): no late fee / no disconnection': '欠费不停供政策: 免收违约金 / 不停电',
  'ask for a hold over a scope and a date range; a second person approves it':
    '申请对某范围和日期区间实施政策保护; 由另一人批准',
  'all | category:<c> | station:<code> | customer:<no>':
    'all | category:<类别> | station:<供电所编码> | customer:<户号>',
  'first day': '起始日',
  'last day': '截止日',
  'no late fee accrues on these days': '这些日子不计违约金',
  'no disconnection for arrears on these days': '这些日子不因欠费停电',
  'the policy document': '政策文件',
  'approve a hold (not by the person who asked for it)': '批准政策保护 (不能由申请人批准)',
  'the hold': '政策保护',
  'policy holds, newest first': '政策保护, 最新的在前',
  'only holds covering this day': '只列出覆盖该日的政策保护',
  'customer deposits (押金)': '用户押金',
  'take a deposit in cash or by bank transfer (the receipt number makes it idempotent)':
    '以现金或银行转账收取押金 (收据号保证重复提交不重复入账)',
  amount: '金额',
  'the utility account credited (bank transfer)': '入账的供电企业账户 (银行转账)',
  'day received (default: today)': '收款日期 (默认: 今天)',
  'apply a deposit to what the customer owes (through the payment path)': '以押金抵缴用户欠费 (走缴费流程)',
  'unique key of this application (rerun returns the first result)':
    '本次抵缴的唯一键 (重复运行返回第一次的结果)',
  'amount (default: what is due, up to the deposit)': '金额 (默认: 应缴金额, 不超过押金)',
  'late fees (违约金)': '违约金',
  'compute every customer’s unpaid late fee at a month end (reporting; resumable, several workers)':
    '计算月末每户未缴违约金 (用于报表; 可续跑, 可多进程)',
  'the month, YYYY-MM': '月份 YYYY-MM',
  'parallel partitions': '并行分区数',
  'give a fresh (non-demo) database its first administrator; refused once it has staff':
    '为新的 (非示范) 数据库创建首位管理员; 已有员工时拒绝',
  'the administrator’s login': '管理员登录名',
  'the administrator’s name': '管理员姓名',
  'code of the county org unit to create (when the database has none)':
    '要创建的县级单位编码 (数据库中尚无单位时)',
  'name of that county org unit': '该县级单位名称',
  'its English name': '其英文名称',
  'read the password from standard input (one line)': '从标准输入读取密码 (一行)',
  'log in as a staff member; the session is kept for this OS user and database (0600 file)':
    '以员工身份登录; 会话按操作系统用户和数据库保存 (权限 0600 的文件)',
  'staff login': '员工登录名',
  'end this OS user’s CLI session for the database': '结束此操作系统用户在该数据库上的命令行会话',
  'the staff member this OS user’s CLI session acts as': '此操作系统用户的命令行会话所代表的员工',
  'change your own password (the current one is required); your other sessions end':
    '修改自己的密码 (需输入当前密码); 其他会话随之结束',
  'read the current and the new password from standard input (two lines)':
    '从标准输入读取当前密码和新密码 (两行)',
  'staff accounts (an administrator, logged in with gridcollect login)':
    '员工账号 (须由管理员通过 gridcollect login 登录后操作)',
  'add a staff member in an org unit of your scope': '在你管辖范围内的单位添加员工',
  login: '登录名',
  name: '姓名',
  'role (repeat or comma-separate for several)': '角色 (多个角色可重复本选项或用逗号分隔)',
  'org unit code': '单位编码',
  'phone number': '电话号码',
  'read the first password from standard input (one line)': '从标准输入读取初始密码 (一行)',
  'staff of your scope': '你管辖范围内的员工',
  'disable a staff member: they cannot log in and their sessions end': '停用员工: 不能再登录, 其会话全部结束',
  'enable a disabled staff member again': '重新启用已停用的员工',
  'set a new password for a staff member who lost theirs; their sessions end':
    '为忘记密码的员工设置新密码; 其会话全部结束',
  'read the new password from standard input (one line)': '从标准输入读取新密码 (一行)',
  'the encryption key of personal data and secrets': '个人信息和密钥的加密密钥',
  're-encrypt every encrypted value under a new key (batched, resumable: rerun to finish), then record its key check value; stop servers first':
    '用新密钥重新加密所有加密值 (分批进行, 可续跑: 再次运行即可完成), 然后记录密钥校验值; 请先停止服务',
  'the new key: read when the file exists, otherwise generated and written there (mode 0600, outside any git checkout)':
    '新密钥: 文件存在时读取, 否则生成并写入该文件 (权限 0600, 不在任何 git 工作区内)',
  'the current key (default: the configured key, GRIDCOLLECT_ENCRYPTION_KEY(_FILE) or the default key file)':
    '当前密钥 (默认: 配置的密钥, 即 GRIDCOLLECT_ENCRYPTION_KEY(_FILE) 或默认密钥文件)',
  'values per transaction': '每个事务处理的值的个数',
  'audit trail': '审计记录',
  'latest audit entries': '最新的审计记录',
  'at most this many': '最多条数',
  'claim and run pending partitions of unfinished batch runs (demo, billing); several may run at once':
    '领取并运行未完成批处理 (示范县、电费核算) 的待处理分区; 可多个同时运行',
  'partitions at once': '同时处理的分区数',
  'start the HTTP server and web UI': '启动 HTTP 服务和网页界面',
  'port (default 3000)': '端口 (默认 3000)',
  'interface to listen on (default 127.0.0.1)': '监听的网络接口 (默认 127.0.0.1)',
  'migrate, create the demo county when the database is empty, then serve (npm start)':
    '执行迁移, 数据库为空时生成示范县, 然后启动服务 (npm start)',
  'display help for command': '显示命令帮助',
};
