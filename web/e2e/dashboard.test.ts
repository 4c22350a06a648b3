import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../../test/support/databases.js';
import { createTestDatabase } from '../../test/support/databases.js';
import { createSmallDemo } from '../../test/support/demo.js';
import { CLI_PRINCIPAL } from '../../src/app/principal.js';
import type { LocalDate, Period } from '../../src/domain/local-date.js';
import { releaseBills } from '../../src/jobs/billing/release-bills.js';
import { runBilling } from '../../src/jobs/billing/run-billing.js';
import { buildTestServer } from '../../test/support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const WEB_BUILT = existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)));
// CI installs Debian's Chromium and sets this, so that a missing browser fails instead of skipping.
const REQUIRED = process.env.GRIDCOLLECT_REQUIRE_SYSTEM_DEPS === '1';
const available = existsSync(CHROMIUM) && WEB_BUILT;

describe.skipIf(!available && !REQUIRED)('dashboard in Chromium', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl: string;

  beforeAll(async () => {
    if (!available) throw new Error(`browser test needs ${CHROMIUM} and a built web UI (npm run build)`);
    database = await createTestDatabase('pglite');
    await createSmallDemo(database.db);
    await runBilling(database.db, { period: '2026-10' as Period, concurrency: 1, worker: 'e2e' });
    await releaseBills(database.db, {
      period: '2026-10' as Period,
      releasedOn: '2026-11-03' as LocalDate,
      actor: CLI_PRINCIPAL,
    });
    app = await buildTestServer(database);
    baseUrl = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await database?.close();
  });

  it('logs in, shows the county overview with a chart, and opens a customer from a search', async () => {
    const page = await browser.newPage();
    await page.goto(baseUrl);
    await page.getByLabel('用户名').fill('admin');
    await page.getByLabel('密码').fill('wrong');
    await page.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('用户名或密码错误');

    await page.getByLabel('密码').fill('gridcollect');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('清河县供电公司').waitFor();
    expect(await page.getByTestId('kpi-customers').textContent()).toBe('900');
    const stationRows = page.getByRole('table', { name: '供电所' }).locator('tbody tr');
    expect(await stationRows.count()).toBeGreaterThanOrEqual(6);
    expect(await stationRows.first().textContent()).toContain('城关供电所');
    // ECharts draws into a canvas inside the chart box.
    await page.locator('#category-chart canvas').first().waitFor();
    await page.locator('#billing-chart canvas').first().waitFor();

    await page.getByRole('button', { name: '客户' }).click();
    const customerTable = page.getByRole('table', { name: '客户' });
    await customerTable.waitFor();
    const firstNo = (await customerTable.locator('tbody tr td button').first().textContent())!;
    await page.getByRole('searchbox').fill(firstNo);
    await page.getByRole('searchbox').press('Enter');
    await expect.poll(() => customerTable.locator('tbody tr').count()).toBe(1);
    await customerTable.getByRole('button', { name: firstNo }).click();
    await page.getByRole('heading', { name: `客户详情 ${firstNo}` }).waitFor();
    expect(await page.getByRole('table', { name: '最近抄表' }).locator('tbody tr').count()).toBeGreaterThan(
      0,
    );

    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('button', { name: 'Customers' }).waitFor();
    await page.close();
  });
});
