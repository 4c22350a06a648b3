import * as echarts from 'echarts/core';
import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';
import { ApiError, type Reply, api, hasSession, logIn, logOut } from './api.js';
import { demoProgressBanner } from './demo-progress.js';
import { h, table } from './dom.js';
import { lang, setLang, t, tc } from './i18n.js';
import './style.css';

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

type Me = Reply<'/api/v1/me'>;
type Overview = Reply<'/api/v1/overview'>;

const root = document.getElementById('app')!;
const CATEGORIES = ['residential', 'commercial', 'large_industry', 'agriculture', 'temporary'];
let chart: echarts.ECharts | null = null;
let billingChart: echarts.ECharts | null = null;

function percent(part: number, whole: number): string {
  return whole === 0 ? '—' : `${((part * 100) / whole).toFixed(1)}%`;
}

function languageButton(onChange: () => void): HTMLButtonElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'link',
      onclick: () => {
        setLang(lang() === 'zh-CN' ? 'en' : 'zh-CN');
        onChange();
      },
    },
    t('language'),
  );
}

function renderLogin(message = '', previousLogin = ''): void {
  document.title = t('title');
  const user = h('input', {
    id: 'login',
    name: 'login',
    autocomplete: 'username',
    required: true,
    value: previousLogin,
  });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const error = h('p', { class: 'error', role: 'alert' }, message);
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          await logIn(user.value, password.value);
          await renderApp();
        } catch (caught) {
          renderLogin(
            caught instanceof ApiError && caught.status === 401 ? t('loginFailed') : String(caught),
            user.value,
          );
        }
      },
    },
    h('h1', {}, t('title')),
    h('label', { for: 'login' }, t('username')),
    user,
    h('label', { for: 'password' }, t('password')),
    password,
    h('button', { type: 'submit' }, t('login')),
    error,
    languageButton(() => renderLogin('', user.value)),
  );
  root.replaceChildren(demoProgressBanner(), form);
  (previousLogin ? password : user).focus();
}

async function renderApp(view: 'overview' | 'customers' | 'exceptions' = 'overview'): Promise<void> {
  const me = await api<Me>('/api/v1/me');
  const overview = await api<Overview>('/api/v1/overview');
  document.title = `${t('title')} · ${overview.county ? (lang() === 'en' ? overview.county.nameEn : overview.county.name) : ''}`;
  const main = h('main', {});
  const nav = h(
    'nav',
    {},
    h(
      'button',
      {
        type: 'button',
        class: view === 'overview' ? 'tab active' : 'tab',
        onclick: () => renderApp('overview'),
      },
      t('overview'),
    ),
    h(
      'button',
      {
        type: 'button',
        class: view === 'customers' ? 'tab active' : 'tab',
        onclick: () => renderApp('customers'),
      },
      t('customers'),
    ),
    h(
      'button',
      {
        type: 'button',
        class: view === 'exceptions' ? 'tab active' : 'tab',
        onclick: () => renderApp('exceptions'),
      },
      t('exceptions'),
    ),
  );
  const header = h(
    'header',
    {},
    h(
      'strong',
      {},
      overview.county ? (lang() === 'en' ? overview.county.nameEn : overview.county.name) : t('title'),
    ),
    overview.demo
      ? h(
          'span',
          { class: 'badge' },
          `${t('demo')} ${overview.demo.firstPeriod} – ${overview.demo.lastPeriod}`,
        )
      : null,
    h('span', { class: 'spacer' }),
    h('span', {}, `${me.name} (${me.login})`),
    languageButton(() => renderApp(view)),
    h(
      'button',
      {
        type: 'button',
        class: 'link',
        onclick: async () => {
          await logOut();
          renderLogin();
        },
      },
      t('logout'),
    ),
  );
  root.replaceChildren(header, demoProgressBanner(), nav, main);
  if (view === 'overview') renderOverview(main, overview);
  else if (view === 'customers') await renderCustomers(main);
  else await renderExceptions(main, overview.demo?.lastPeriod ?? overview.stations[0]?.latestPeriod ?? '');
}

function renderOverview(main: HTMLElement, overview: Overview): void {
  const rows = overview.stations.map((station) => [
    lang() === 'en' ? station.nameEn : station.name,
    String(station.transformerAreas),
    String(station.staff),
    String(station.customers),
    String(station.protectedCustomers),
    String(station.prepaidCustomers),
    station.latestPeriod ?? '—',
    percent(station.actualReads, station.activeCustomers),
    String(station.estimatedReads),
  ]);
  const totals = overview.stations.reduce((sum, station) => sum + station.customers, 0);
  const chartBox = h('div', {
    class: 'chart',
    id: 'category-chart',
    role: 'img',
    'aria-label': t('byCategory'),
  });
  const billingBox = h('div', {
    class: 'chart',
    id: 'billing-chart',
    role: 'img',
    'aria-label': t('billedByMonth'),
  });
  main.replaceChildren(
    h(
      'section',
      { class: 'kpis' },
      h(
        'div',
        { class: 'kpi' },
        h('span', {}, t('customerCount')),
        h('b', { 'data-testid': 'kpi-customers' }, String(totals)),
      ),
      h('div', { class: 'kpi' }, h('span', {}, t('station')), h('b', {}, String(overview.stations.length))),
      h(
        'div',
        { class: 'kpi' },
        h('span', {}, t('areas')),
        h('b', {}, String(overview.stations.reduce((sum, s) => sum + s.transformerAreas, 0))),
      ),
    ),
    h('h2', {}, t('byCategory')),
    chartBox,
    h('h2', {}, t('billedByMonth')),
    billingBox,
    table(
      [
        t('station'),
        t('areas'),
        t('staff'),
        t('customerCount'),
        t('protected'),
        t('prepaid'),
        t('latestPeriod'),
        t('actualReadRate'),
        t('estimated'),
      ],
      rows,
      t('station'),
    ),
  );
  billingChart?.dispose();
  billingChart = echarts.init(billingBox);
  billingChart.setOption({
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 72, right: 56, top: 40, bottom: 32 },
    xAxis: { type: 'category', data: overview.billing.map((row) => row.period) },
    yAxis: [
      { type: 'value', name: t('amount') },
      { type: 'value', name: t('bills') },
    ],
    series: [
      { name: t('amount'), type: 'bar', data: overview.billing.map((row) => Number(row.amount)) },
      { name: t('bills'), type: 'line', yAxisIndex: 1, data: overview.billing.map((row) => row.bills) },
    ],
  });
  chart?.dispose();
  chart = echarts.init(chartBox);
  chart.setOption({
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 40, bottom: 32 },
    xAxis: {
      type: 'category',
      data: overview.stations.map((s) =>
        lang() === 'en' ? s.nameEn.replace(' Station', '') : s.name.replace('供电所', ''),
      ),
    },
    yAxis: { type: 'value' },
    series: CATEGORIES.map((category) => ({
      name: tc(category),
      type: 'bar',
      stack: 'customers',
      data: overview.stations.map((s) => s.customersByCategory[category] ?? 0),
    })),
  });
}

async function renderCustomers(main: HTMLElement, query = ''): Promise<void> {
  const search = h('input', {
    type: 'search',
    placeholder: t('search'),
    'aria-label': t('search'),
    value: query,
  });
  const list = h('div', {});
  const detail = h('aside', { class: 'detail' });
  const load = async () => {
    const result = await api<Reply<'/api/v1/customers'>>(
      `/api/v1/customers?limit=50${search.value ? `&q=${encodeURIComponent(search.value)}` : ''}`,
    );
    list.replaceChildren(
      table(
        [
          t('customerNo'),
          t('name'),
          t('category'),
          t('station'),
          t('transformerArea'),
          t('totalDue'),
          t('status'),
        ],
        result.customers.map((c) => [
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => showCustomer(detail, c.customerNo) },
            c.customerNo,
          ),
          c.name,
          tc(c.category),
          c.stationName,
          c.transformerAreaName,
          c.totalDue,
          tc(c.status),
        ]),
        t('customers'),
      ),
    );
  };
  main.replaceChildren(
    h(
      'form',
      {
        class: 'search',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void load();
        },
      },
      search,
      h('button', { type: 'submit' }, '🔍'),
    ),
    h('div', { class: 'split' }, list, detail),
  );
  await load();
}

async function showCustomer(target: HTMLElement, customerNo: string): Promise<void> {
  const c = await api<Reply<'/api/v1/customers/{customerNo}'>>(`/api/v1/customers/${customerNo}`);
  const bills = await api<Reply<'/api/v1/customers/{customerNo}/bills'>>(
    `/api/v1/customers/${customerNo}/bills?limit=12`,
  );
  const field = (label: string, value: string) => [h('dt', {}, label), h('dd', {}, value)];
  target.replaceChildren(
    h('h2', {}, `${t('detail')} ${c.customerNo}`),
    h(
      'dl',
      {},
      ...field(t('name'), c.name),
      ...field(t('category'), tc(c.category)),
      ...field(t('address'), c.address),
      ...field(t('phone'), c.phone ?? t('none')),
      ...field(t('nationalId'), c.nationalIdMasked ?? t('none')),
      ...field(t('tariff'), c.tariffCode),
      ...field(t('capacity'), c.contractCapacityKva ?? t('none')),
      ...field(t('billingMode'), tc(c.billingMode)),
      ...field(t('transformerArea'), c.transformerArea.name),
      ...field(
        t('responsible'),
        c.responsibleStaff ? `${c.responsibleStaff.name} (${c.responsibleStaff.since})` : t('none'),
      ),
    ),
    h('h3', {}, t('meters')),
    table(
      [t('meters'), t('multiplier'), t('registers'), t('installed'), t('removed')],
      c.meters.map((m) => [
        m.meterNo,
        String(m.multiplier),
        m.registers.join(' '),
        m.installedOn,
        m.removedOn ?? '',
      ]),
      t('meters'),
    ),
    h('h3', {}, t('bills')),
    table(
      [t('period'), t('billNo'), t('status'), t('dueOn'), 'kWh', t('amount')],
      bills.map((b) => [b.period, b.billNo ?? '', tc(b.status), b.dueOn ?? '', b.kwh, b.amount]),
      t('bills'),
    ),
    h('h3', {}, t('reads')),
    table(
      [t('period'), t('readOn'), t('meters'), t('kind'), t('total')],
      c.recentReads.map((r) => [r.period, r.readOn, r.meterNo, tc(r.kind), r.total ?? '']),
      t('reads'),
    ),
  );
}

async function renderExceptions(main: HTMLElement, period: string): Promise<void> {
  const rows = await api<Reply<'/api/v1/read-exceptions'>>(
    `/api/v1/read-exceptions?period=${period}&limit=200`,
  );
  const message = h('p', { role: 'status' });
  const resolve = async (
    customerNo: string,
    code: string,
    resolution: 'confirmed' | 'estimated' | 'rejected',
  ) => {
    try {
      await api('/api/v1/read-exceptions/resolve', {
        method: 'POST',
        body: { customerNo, period, code, resolution },
      });
      await renderExceptions(main, period);
    } catch (caught) {
      message.textContent = caught instanceof ApiError ? caught.message : String(caught);
    }
  };
  const confirmable = new Set(['consumption_jump', 'consumption_drop', 'zero_consumption', 'estimated_read']);
  // A later reads file disagreeing with the accepted read: confirm its value or reject it, even
  // for a billed period (a rebill follows a confirmation).
  const isConflict = (code: string) => /^conflicting_read(-[1-9][0-9]*)?$/.test(code);
  const button = (label: string, onclick: () => void) =>
    h('button', { type: 'button', class: 'link', onclick }, label);
  main.replaceChildren(
    h('h2', {}, `${t('exceptions')} ${period}`),
    message,
    table(
      [t('customerNo'), t('name'), t('station'), t('reason'), t('severity'), t('resolution'), t('actions')],
      rows.map((row) => [
        row.customerNo,
        row.name,
        row.stationName,
        tc(isConflict(row.code) ? 'conflicting_read' : row.code),
        tc(row.severity),
        row.resolution ? tc(row.resolution) : row.billed ? tc('billed') : '',
        isConflict(row.code) && !row.resolution
          ? h(
              'span',
              {},
              button(t('confirm'), () => resolve(row.customerNo, row.code, 'confirmed')),
              ' ',
              button(t('reject'), () => resolve(row.customerNo, row.code, 'rejected')),
            )
          : row.severity === 'hold' && !row.resolution && !row.billed
            ? h(
                'span',
                {},
                confirmable.has(row.code)
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'link',
                        onclick: () => resolve(row.customerNo, row.code, 'confirmed'),
                      },
                      t('confirm'),
                    )
                  : null,
                ' ',
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'link',
                    onclick: () => resolve(row.customerNo, row.code, 'estimated'),
                  },
                  t('estimate'),
                ),
              )
            : '',
      ]),
      t('exceptions'),
    ),
  );
}

setLang(lang());
if (hasSession()) renderApp().catch(() => renderLogin());
else renderLogin();
window.addEventListener('resize', () => {
  chart?.resize();
  billingChart?.resize();
});
