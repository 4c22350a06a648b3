import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';
import { buildTestServer, loginToken } from '../support/server.js';

describeEachDatabase('billing API', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let checker: string;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    app = await buildTestServer(database);
    checker = await loginToken(app, 's01.checker1');
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const call = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  it('lets a station checker bill only their own station', async () => {
    const run = await call('POST', '/api/v1/billing/runs', checker, { period: '2025-10' });
    expect(run.statusCode).toBe(200);
    expect(run.json()).toMatchObject({ period: '2025-10', stationId: 11, failed: 0 });
    expect(run.json().billed).toBeGreaterThan(0);
    const other = await call('POST', '/api/v1/billing/runs', checker, { period: '2025-10', stationId: 12 });
    expect(other.statusCode).toBe(403);
    expect(other.json().error.code).toBe('out_of_scope');
    const head = await call('POST', '/api/v1/billing/runs', await loginToken(app, 's01.head'), {
      period: '2025-10',
    });
    expect(head.statusCode).toBe(403);
  });

  it('lists the exception queue and resolves a held read through the API', async () => {
    const queue = await call('GET', '/api/v1/read-exceptions?period=2025-10&open=true', checker);
    expect(queue.statusCode).toBe(200);
    const open =
      queue.json<{ customerNo: string; code: string; severity: string; resolution: string | null }[]>();
    expect(open.every((entry) => entry.severity === 'hold' && entry.resolution === null)).toBe(true);
    const missing = open.find((entry) => entry.code === 'missing_read');
    if (missing) {
      const resolved = await call('POST', '/api/v1/read-exceptions/resolve', checker, {
        customerNo: missing.customerNo,
        period: '2025-10',
        code: 'missing_read',
        resolution: 'estimated',
        method: 'average_recent',
      });
      expect(resolved.statusCode).toBe(200);
      const again = await call('POST', '/api/v1/read-exceptions/resolve', checker, {
        customerNo: missing.customerNo,
        period: '2025-10',
        code: 'missing_read',
        resolution: 'estimated',
      });
      expect(again.statusCode).toBe(409);
    }
    const bad = await call('POST', '/api/v1/read-exceptions/resolve', checker, {
      customerNo: '0100000001',
      period: '2025-13',
      code: 'x',
      resolution: 'confirmed',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/period/);
  });

  it('reports the actual-read rate per station and reader', async () => {
    const byStation = await call('GET', '/api/v1/reads/quality?period=2025-10', checker);
    expect(byStation.statusCode).toBe(200);
    const rows = byStation.json<{ stationName: string; actualReadRate: number; due: number }[]>();
    expect(rows.map((row) => row.stationName)).toEqual(['城关供电所']);
    expect(rows[0]!.actualReadRate).toBeGreaterThan(0.8);
    const byReader = (await call('GET', '/api/v1/reads/quality?period=2025-10&by=reader', checker)).json<
      { key: string; due: number }[]
    >();
    expect(byReader.every((row) => row.key.startsWith('s01.'))).toBe(true);
    expect(byReader.reduce((sum, row) => sum + row.due, 0)).toBe(rows[0]!.due);
  });

  it('releases the station’s bills and shows them on the customer with number and due date', async () => {
    const release = await call('POST', '/api/v1/billing/releases', checker, { period: '2025-10' });
    expect(release.statusCode).toBe(200);
    expect(release.json().released).toBeGreaterThan(0);
    const customers = (await call('GET', '/api/v1/customers?stationId=11&owing=true&limit=1', checker)).json<{
      customers: { customerNo: string; totalDue: string }[];
    }>();
    const customer = customers.customers[0]!;
    const bills = (
      await call(
        'GET',
        `/api/v1/customers/${customer.customerNo}/bills`,
        await loginToken(app, 's01.cashier1'),
      )
    ).json<{ status: string; billNo: string; dueOn: string; amount: string; lines: { code: string }[] }[]>();
    expect(bills[0]).toMatchObject({
      status: 'released',
      billNo: expect.stringMatching(/^202510-\d{10}-01$/),
      dueOn: expect.any(String),
    });
    expect(bills[0]!.amount).toBe(customer.totalDue);
    expect(bills[0]!.lines.length).toBeGreaterThan(0);
  });

  it('lets a cashier post a payment once per receipt key, and shows it on the customer', async () => {
    const cashier = await loginToken(app, 's01.cashier1');
    const owing = (await call('GET', '/api/v1/customers?stationId=11&owing=true&limit=1', cashier)).json<{
      customers: { customerNo: string; totalDue: string }[];
    }>();
    const customer = owing.customers[0]!;
    const body = { customerNo: customer.customerNo, amount: customer.totalDue, receiptKey: 'SK-0001' };
    const first = await call('POST', '/api/v1/payments', cashier, body);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      customerNo: customer.customerNo,
      amount: customer.totalDue,
      replayed: false,
    });
    const again = await call('POST', '/api/v1/payments', cashier, body);
    expect(again.json()).toMatchObject({ receiptNo: first.json().receiptNo, replayed: true });
    const conflict = await call('POST', '/api/v1/payments', cashier, { ...body, amount: '1.00' });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().error.code).toBe('payment_key_conflict');
    const bad = await call('POST', '/api/v1/payments', cashier, {
      ...body,
      amount: '1.234',
      receiptKey: 'SK-0002',
    });
    expect(bad.statusCode).toBe(400);
    const after = (await call('GET', `/api/v1/customers?q=${customer.customerNo}`, cashier)).json<{
      customers: { totalDue: string }[];
    }>();
    // Released today and not yet due: paying the total due settles it.
    expect(after.customers[0]!.totalDue).toBe('0.00');
    const otherStation = await call('POST', '/api/v1/payments', await loginToken(app, 's02.cashier1'), {
      ...body,
      receiptKey: 'SK-9',
    });
    expect(otherStation.statusCode).toBe(404);
  });
});
