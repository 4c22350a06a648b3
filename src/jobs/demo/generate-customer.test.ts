import { describe, expect, it } from 'vitest';
import type { Period } from '../../domain/local-date.js';
import { generateCustomer } from './generate-customer.js';
import { planCounty, slotOf } from './plan-county.js';

const params = { seed: 7, customers: 4000, months: 24, untilPeriod: '2026-10' as Period };
const plan = planCounty(params);
const customers = Array.from({ length: params.customers }, (_, index) => generateCustomer(plan, index));

describe('demo county plan', () => {
  it('has one county, 6–10 stations with teams, and staff in every role', () => {
    expect(plan.orgUnits.filter((unit) => unit.kind === 'county')).toHaveLength(1);
    const stations = plan.orgUnits.filter((unit) => unit.kind === 'station').length;
    expect(stations).toBeGreaterThanOrEqual(6);
    expect(stations).toBeLessThanOrEqual(10);
    const roles = new Set(plan.staff.flatMap((member) => member.roles));
    for (const role of [
      'admin',
      'marketing_manager',
      'finance_manager',
      'station_head',
      'billing_checker',
      'cashier',
      'collector',
    ]) {
      expect(roles).toContain(role);
    }
    expect(new Set(plan.staff.map((member) => member.login)).size).toBe(plan.staff.length);
  });

  it('puts every customer in exactly one transformer area, in order', () => {
    expect(plan.slots.at(-1)?.customerEnd).toBe(params.customers);
    for (let index = 0; index < params.customers; index += 97) {
      const slot = slotOf(plan, index);
      const previousEnd = plan.slots[plan.slots.indexOf(slot) - 1]?.customerEnd ?? 0;
      expect(index).toBeGreaterThanOrEqual(previousEnd);
      expect(index).toBeLessThan(slot.customerEnd);
    }
  });

  it('keeps responsibility history: some areas change hands during the window', () => {
    const byArea = new Map<number, number>();
    for (const assignment of plan.assignments)
      byArea.set(assignment.areaId, (byArea.get(assignment.areaId) ?? 0) + 1);
    expect([...byArea.values()].some((count) => count > 1)).toBe(true);
  });

  it('is the same for the same seed and differs for another', () => {
    expect(planCounty(params)).toEqual(plan);
    expect(planCounty({ ...params, seed: 8 }).staff.map((member) => member.name)).not.toEqual(
      plan.staff.map((member) => member.name),
    );
  });
});

describe('demo customers', () => {
  it('are generated identically from the same seed and index, independent of order', () => {
    expect(generateCustomer(plan, 1234)).toEqual(customers[1234]);
  });

  it('come in realistic shares: mostly residential, some shops and factories, few large industry', () => {
    const share = (category: string) =>
      customers.filter((c) => c.customer[3] === category).length / customers.length;
    expect(share('residential')).toBeGreaterThan(0.8);
    expect(share('commercial')).toBeGreaterThan(0.04);
    expect(share('large_industry')).toBeGreaterThan(0.001);
    expect(share('large_industry')).toBeLessThan(0.02);
    expect(share('agriculture')).toBeGreaterThan(0.01);
    expect(share('temporary')).toBeGreaterThan(0.002);
  });

  it('give every large-industry customer at least 315 kVA on a two-part tariff with PF standard 0.90', () => {
    for (const c of customers.filter((c) => c.customer[3] === 'large_industry')) {
      expect(Number(c.customer[14])).toBeGreaterThanOrEqual(315);
      expect(String(c.customer[16])).toMatch(/^LI-2P-/);
      expect(c.customer[15]).toBe('0.90');
    }
  });

  it('contain the faults a real county has', () => {
    const faults = new Set(customers.flatMap((c) => c.faults.map((fault) => fault[3])));
    for (const fault of ['estimated', 'misread', 'rollover', 'meter_change', 'vacant', 'missing'])
      expect(faults).toContain(fault);
  });

  it('keep time-of-use registers summing to the total on every actual read without a misread', () => {
    for (const c of customers.slice(0, 800)) {
      const misread = new Set(c.faults.filter((f) => f[3] === 'misread').map((f) => f[2]));
      for (const read of c.reads) {
        if (read[5] !== 'actual' || misread.has(read[3]) || read[9] === null) continue;
        const parts = [read[8], read[9], read[10], read[11]]
          .filter((v) => v !== null)
          .map((v) => Math.round(Number(v) * 100));
        if (parts.length < 2) continue;
        const total = Math.round(Number(read[7]) * 100);
        const modulus = 100_000_000;
        expect(parts.reduce((sum, part) => sum + part, 0) % modulus).toBe(total % modulus);
      }
    }
  });

  it('show summer and winter peaks in residential consumption', () => {
    const byMonth = new Array<number>(13).fill(0);
    for (const c of customers
      .filter((c) => c.customer[3] === 'residential' && c.customer[19] === 'occupied')
      .slice(0, 1500)) {
      const reads = c.reads.filter((read) => read[5] === 'actual' && c.meters.length === 1);
      for (let k = 1; k < reads.length; k++) {
        const delta = Number(reads[k]![7]) - Number(reads[k - 1]![7]);
        const monthsApart = Number(String(reads[k]![3]).slice(5)) - Number(String(reads[k - 1]![3]).slice(5));
        if (delta > 0 && delta < 5000 && (monthsApart === 1 || monthsApart === -11))
          byMonth[Number(String(reads[k]![3]).slice(5))]! += delta;
      }
    }
    expect(byMonth[8]!).toBeGreaterThan(byMonth[4]! * 1.4);
    expect(byMonth[1]!).toBeGreaterThan(byMonth[10]! * 1.2);
  });

  it('assign unique customer and meter numbers', () => {
    expect(new Set(customers.map((c) => c.customer[1])).size).toBe(customers.length);
    const meterNos = customers.flatMap((c) => c.meters.map((m) => m[2]));
    expect(new Set(meterNos).size).toBe(meterNos.length);
  });
});
