export type Lang = 'zh-CN' | 'en';

const TEXT = {
  'zh-CN': {
    title: 'GridCollect 电费回收',
    login: '登录',
    logout: '退出',
    username: '用户名',
    password: '密码',
    loginFailed: '用户名或密码错误',
    overview: '总览',
    customers: '客户',
    station: '供电所',
    areas: '台区',
    staff: '员工',
    customerCount: '户数',
    protected: '保电户',
    prepaid: '费控户',
    latestPeriod: '最近抄表期',
    actualReadRate: '实抄率',
    estimated: '估抄',
    byCategory: '各供电所客户构成',
    search: '户号 / 户名 / 地址',
    customerNo: '户号',
    name: '户名',
    category: '类别',
    address: '地址',
    totalDue: '欠费 (元)',
    status: '状态',
    more: '更多',
    detail: '客户详情',
    responsible: '台区经理',
    meters: '电能表',
    reads: '最近抄表',
    multiplier: '倍率',
    period: '电费年月',
    readOn: '抄表日',
    kind: '类型',
    total: '总示数',
    tariff: '电价',
    capacity: '容量 (kVA)',
    billingMode: '缴费方式',
    transformerArea: '台区',
    phone: '电话',
    nationalId: '身份证',
    none: '无',
    demo: '示范数据',
    residential: '居民',
    commercial: '工商业',
    large_industry: '大工业 (两部制)',
    agriculture: '农业',
    temporary: '临时用电',
    postpaid: '后付费',
    remote_prepaid: '远程费控',
    card_prepaid: '本地费控',
    active: '正常',
    suspended: '暂停',
    closed: '销户',
    actual: '实抄',
    estimatedKind: '估抄',
    registers: '示数类型',
    installed: '装表日期',
    removed: '拆表日期',
    language: 'English',
  },
  en: {
    title: 'GridCollect fee recovery',
    login: 'Log in',
    logout: 'Log out',
    username: 'User',
    password: 'Password',
    loginFailed: 'Wrong user or password',
    overview: 'Overview',
    customers: 'Customers',
    station: 'Station',
    areas: 'Transformer areas',
    staff: 'Staff',
    customerCount: 'Customers',
    protected: 'Protected',
    prepaid: 'Prepaid',
    latestPeriod: 'Latest read period',
    actualReadRate: 'Actual-read rate',
    estimated: 'Estimated',
    byCategory: 'Customers by category and station',
    search: 'Customer no. / name / address',
    customerNo: 'Customer no.',
    name: 'Name',
    category: 'Category',
    address: 'Address',
    totalDue: 'Due (yuan)',
    status: 'Status',
    more: 'More',
    detail: 'Customer',
    responsible: 'Area manager',
    meters: 'Meters',
    reads: 'Recent reads',
    multiplier: 'Multiplier',
    period: 'Period',
    readOn: 'Read on',
    kind: 'Kind',
    total: 'Total register',
    tariff: 'Tariff',
    capacity: 'Capacity (kVA)',
    billingMode: 'Billing mode',
    transformerArea: 'Transformer area',
    phone: 'Phone',
    nationalId: 'National ID',
    none: 'none',
    demo: 'demo data',
    residential: 'Residential',
    commercial: 'Commercial',
    large_industry: 'Large industry (two-part)',
    agriculture: 'Agriculture',
    temporary: 'Temporary',
    postpaid: 'Postpaid',
    remote_prepaid: 'Remote prepaid',
    card_prepaid: 'Card prepaid',
    active: 'Active',
    suspended: 'Suspended',
    closed: 'Closed',
    actual: 'Actual',
    estimatedKind: 'Estimated',
    registers: 'Registers',
    installed: 'Installed',
    removed: 'Removed',
    language: '中文',
  },
} as const;

export type TextKey = keyof (typeof TEXT)['en'];

let current: Lang = (localStorage.getItem('gc.lang') as Lang | null) ?? 'zh-CN';

export function lang(): Lang {
  return current;
}

export function setLang(value: Lang): void {
  current = value;
  localStorage.setItem('gc.lang', value);
  document.documentElement.lang = value;
}

export function t(key: TextKey): string {
  return TEXT[current][key];
}

/** Translates a code value (category, status …) when a text exists for it. */
export function tc(code: string): string {
  const table = TEXT[current] as Record<string, string>;
  return table[code === 'estimated' ? 'estimatedKind' : code] ?? code;
}
