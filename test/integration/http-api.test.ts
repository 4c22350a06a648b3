import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/databases.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';
import { createSmallDemo } from '../support/demo.js';
import { buildTestServer, loginToken } from '../support/server.js';

describeEachDatabase('HTTP API', (kind) => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let adminToken: string;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    await createSmallDemo(database.db);
    app = await buildTestServer(database);
    adminToken = await loginToken(app, 'admin');
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  const get = (url: string, token?: string) =>
    app.inject({ method: 'GET', url, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

  it('answers /health without a session', async () => {
    const response = await get('/health');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', database: kind });
  });

  it('serves an OpenAPI document listing the staff endpoints, and the docs page', async () => {
    const document = (await get('/openapi.json')).json<{ openapi: string; paths: Record<string, unknown> }>();
    expect(document.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/v1/auth/login',
      '/api/v1/customers',
      '/api/v1/customers/{customerNo}',
      '/api/v1/overview',
      '/api/v1/areas',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    expect((await get('/docs/')).statusCode).toBe(200);
  });

  it('refuses API calls without a token or with a bad one', async () => {
    const missing = await get('/api/v1/customers');
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toEqual({ error: { code: 'unauthenticated', message: expect.any(String) } });
    expect((await get('/api/v1/customers', 'not-a-token')).statusCode).toBe(401);
  });

  it('refuses a wrong password and records successful logins in the audit trail', async () => {
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: 'admin', password: 'nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('invalid_credentials');
    const audit = (await get('/api/v1/audit-log?limit=10', adminToken)).json<
      { action: string; objectId: string }[]
    >();
    expect(audit.some((entry) => entry.action === 'auth.login' && entry.objectId === 'admin')).toBe(true);
  });

  it('names the field at fault for malformed input', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { login: 'admin' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.message).toMatch(/password/);
    const badLimit = await get('/api/v1/customers?limit=100000', adminToken);
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().error.message).toMatch(/limit/);
  });

  it('shows the county admin every station, and a station head only their own', async () => {
    const overview = (await get('/api/v1/overview', adminToken)).json<{
      stations: { stationId: number; customers: number }[];
    }>();
    expect(overview.stations.length).toBeGreaterThanOrEqual(6);
    expect(overview.stations.reduce((sum, station) => sum + station.customers, 0)).toBe(900);
    expect((overview as unknown as { billing: unknown[] }).billing).toEqual([]);

    const headToken = await loginToken(app, 's02.head');
    const own = (await get('/api/v1/overview', headToken)).json<{ stations: { stationId: number }[] }>();
    expect(own.stations.map((station) => station.stationId)).toEqual([12]);
    const customers = (await get('/api/v1/customers?limit=500', headToken)).json<{
      customers: { stationId: number }[];
    }>();
    expect(customers.customers.length).toBeGreaterThan(0);
    expect(new Set(customers.customers.map((customer) => customer.stationId))).toEqual(new Set([12]));
  });

  it('hides a customer of another station from a station head, as if absent', async () => {
    const adminList = (await get('/api/v1/customers?stationId=11&limit=1', adminToken)).json<{
      customers: { customerNo: string }[];
    }>();
    const foreign = adminList.customers[0]!.customerNo;
    const headToken = await loginToken(app, 's02.head');
    expect((await get(`/api/v1/customers/${foreign}`, headToken)).statusCode).toBe(404);
    const detail = await get(`/api/v1/customers/${foreign}`, adminToken);
    expect(detail.statusCode).toBe(200);
    expect(detail.json()).toMatchObject({ customerNo: foreign, station: { id: 11 } });
  });

  it('shows a customer with meters, recent reads and the area manager answering for them', async () => {
    const list = (await get('/api/v1/customers?category=residential&limit=1', adminToken)).json<{
      customers: { customerNo: string }[];
    }>();
    const detail = (await get(`/api/v1/customers/${list.customers[0]!.customerNo}`, adminToken)).json<{
      meters: unknown[];
      recentReads: { period: string }[];
      responsibleStaff: { name: string } | null;
      nationalIdMasked: string;
    }>();
    expect(detail.meters.length).toBeGreaterThan(0);
    expect(detail.recentReads[0]?.period).toBe('2026-10');
    expect(detail.responsibleStaff?.name).toBeTruthy();
    expect(detail.nationalIdMasked).toMatch(/^\d{4}\*{10}[\dX]{4}$/);
  });

  it('masks phone numbers for roles without access to personal data', async () => {
    const cashierToken = await loginToken(app, 's01.cashier1');
    const list = (await get('/api/v1/customers?limit=1', cashierToken)).json<{
      customers: { customerNo: string }[];
    }>();
    const detail = (await get(`/api/v1/customers/${list.customers[0]!.customerNo}`, cashierToken)).json<{
      phone: string;
    }>();
    expect(detail.phone).toMatch(/^\d{3}\*{4}\d{4}$/);
  });

  it('forbids the audit trail to a collector', async () => {
    const collectorToken = await loginToken(app, 's01.e001');
    const response = await get('/api/v1/audit-log', collectorToken);
    expect(response.statusCode).toBe(403);
    expect(response.json().error.code).toBe('forbidden');
  });

  it('ends a session on logout', async () => {
    const token = await loginToken(app, 's03.head');
    expect((await get('/api/v1/me', token)).statusCode).toBe(200);
    const logout = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(logout.statusCode).toBe(204);
    expect((await get('/api/v1/me', token)).statusCode).toBe(401);
  });

  it('pages through customers with a keyset cursor and searches by name', async () => {
    const first = (await get('/api/v1/customers?limit=100', adminToken)).json<{
      customers: { customerNo: string }[];
      nextAfter: number;
    }>();
    const second = (await get(`/api/v1/customers?limit=100&after=${first.nextAfter}`, adminToken)).json<{
      customers: { customerNo: string }[];
    }>();
    expect(second.customers[0]!.customerNo > first.customers.at(-1)!.customerNo).toBe(true);
    const surname = (first.customers as unknown as { name: string }[])[0]!.name.slice(0, 1);
    const search = (
      await get(`/api/v1/customers?q=${encodeURIComponent(surname)}&limit=500`, adminToken)
    ).json<{
      customers: { name: string; address: string }[];
    }>();
    expect(search.customers.length).toBeGreaterThan(0);
    expect(
      search.customers.every(
        (customer) => customer.name.includes(surname) || customer.address.includes(surname),
      ),
    ).toBe(true);
    const byNo = (await get(`/api/v1/customers?q=${first.customers[5]!.customerNo}`, adminToken)).json<{
      customers: { customerNo: string }[];
    }>();
    expect(byNo.customers.map((customer) => customer.customerNo)).toEqual([first.customers[5]!.customerNo]);
  });
});
