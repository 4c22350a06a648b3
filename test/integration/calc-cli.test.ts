import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/gridcollect.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'gridcollect-calc-'));

function run(args: string[], stdin?: string) {
  const result = spawnSync(process.execPath, [BIN, ...args], { input: stdin ?? '', encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// The calculation commands as outside tools call them (docs/calculations.md): the compiled binary, JSON on
// standard input or in a file, JSON out, one-line errors naming the field.
describe('gridcollect calc (process)', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prices a two-part bill from standard input', () => {
    const input = {
      category: 'large_industry',
      tariff: {
        energy: { flat: '0.5698' },
        basic: { by: 'capacity', rate: '23.33' },
        pfStandard: '0.90',
        funds: '0.0459',
      },
      usage: { kwh: { flat: 10000 }, kvarh: 4843, capacityKva: 315 },
    };
    const result = run(['calc', 'bill', '-'], JSON.stringify(input));
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.pf).toEqual({ actual: '0.90', standard: '0.90', percent: '0.00' });
    expect(output.lines.map((line: { code: string; amount: string }) => [line.code, line.amount])).toEqual([
      ['energy.flat', '5698.00'],
      ['basic', '7348.95'],
      ['pf', '0.00'],
    ]);
    expect(output.total).toBe('13046.95');
  });

  it('reads a late-fee file and prints the fee', () => {
    const file = path.join(dir, 'late-fee.json');
    writeFileSync(
      file,
      JSON.stringify({
        category: 'other',
        asOf: '2026-01-10',
        items: [{ amount: '10000.00', dueDate: '2025-12-20' }],
      }),
    );
    const result = run(['calc', 'late-fee', file]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ items: [{ days: 21, fee: '520.00' }], fee: '520.00' });
  });

  it('refuses bad input with one line on standard error naming the field, and nothing on standard output', () => {
    const result = run(
      ['calc', 'late-fee', '-'],
      JSON.stringify({
        category: 'other',
        asOf: '2026-01-10',
        items: [{ amount: '1.005', dueDate: '2025-12-20' }],
      }),
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/items\[0\]\.amount/);
    const notJson = run(['calc', 'bill', '-'], '{"category":');
    expect(notJson.code).not.toBe(0);
    expect(notJson.stdout).toBe('');
    expect(notJson.stderr).toMatch(/not valid JSON/);
  });
});
