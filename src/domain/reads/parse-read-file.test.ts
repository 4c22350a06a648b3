import { describe, expect, it } from 'vitest';
import { parseReadRecords } from './parse-read-file.js';

const manualHeader = ['meter_no', 'period', 'read_on', 'total', 'peak', 'valley', 'kind', 'reader'];

describe('meter read files', () => {
  it('parses manual rounds, one read per row', () => {
    const { reads, problems } = parseReadRecords('manual', [
      manualHeader,
      ['310000000010', '2026-11', '2026-11-25', '12345.6', '7000', '5345.6', '', 's01.e001'],
    ]);
    expect(problems).toEqual([]);
    expect(reads).toEqual([
      {
        line: 2,
        meterNo: '310000000010',
        period: '2026-11',
        readOn: '2026-11-25',
        kind: 'actual',
        values: { total: '12345.60', peak: '7000.00', valley: '5345.60' },
        demand: null,
        reader: 's01.e001',
      },
    ]);
  });

  it('reports every bad row with its line and field', () => {
    const { problems } = parseReadRecords('manual', [
      manualHeader,
      ['310000000010', '2026-13', '2026-11-25', '1', '', '', '', ''],
      ['310000000020', '2026-11', '25/11/2026', '-4', '', '', 'guess', ''],
      ['310000000010', '2026-11', '2026-11-26', '2', '', '', '', ''],
      ['310000000010', '2026-11', '2026-11-27', '3', '', '', '', ''],
    ]);
    expect(problems.map((problem) => `${problem.line}:${problem.field}`)).toEqual([
      '2:period',
      '3:read_on',
      '3:total',
      '3:total',
      '3:kind',
      '5:meter_no',
    ]);
  });

  it('refuses a file without the required columns', () => {
    expect(
      parseReadRecords('manual', [['meter', 'period']]).problems.map((problem) => problem.field),
    ).toEqual(['meter_no', 'read_on']);
  });

  it('groups the AMI feed into one read per meter and date', () => {
    const { reads, problems } = parseReadRecords('ami', [
      ['meter_no', 'date', 'register', 'value'],
      ['330000000050', '2026-11-30', 'total', '5000.25'],
      ['330000000050', '2026-11-30', 'peak', '3000'],
      ['330000000050', '2026-11-30', 'demand', '250.125'],
      ['330000000050', '2026-11-30', 'peak', '3001'],
      ['330000000050', '2026-11-30', 'voltage', '220'],
    ]);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({
      period: '2026-11',
      values: { total: '5000.25', peak: '3000.00' },
      demand: '250.125',
    });
    expect(problems.map((problem) => `${problem.line}:${problem.field}`)).toEqual([
      '5:register',
      '6:register',
    ]);
  });
});
