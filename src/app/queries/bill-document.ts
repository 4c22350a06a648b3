import { type Kysely, sql } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { BillInputsRecord } from '../../domain/billing/build-bill.js';
import { Decimal, fixedDecimal } from '../../domain/decimal.js';
import { type Fen, chineseUppercaseYuan, fen, formatYuan } from '../../domain/money.js';
import {
  formatPercentHundredths,
  pfAdjustmentHundredths,
  powerFactor,
} from '../../domain/tariff/power-factor.js';
import { AppError } from '../errors.js';
import { type Principal, requirePermission } from '../principal.js';
import { isInScope } from '../ledger/scope.js';

export interface BillDocument {
  readonly county: string;
  readonly station: string;
  readonly transformerArea: string;
  readonly areaManager: { readonly name: string; readonly phone: string | null } | null;
  readonly customer: {
    readonly customerNo: string;
    readonly name: string;
    readonly address: string;
    readonly category: string;
    readonly tariff: string;
  };
  readonly bill: {
    readonly period: string;
    readonly billNo: string | null;
    readonly revision: number;
    readonly releasedOn: string | null;
    readonly dueOn: string | null;
  };
  readonly reads: readonly {
    readonly meterNo: string;
    readonly multiplier: number;
    readonly register: string;
    readonly previous: string | null;
    readonly current: string | null;
  }[];
  readonly lines: readonly {
    readonly code: string;
    readonly label: string;
    readonly kwh: string | null;
    readonly price: string | null;
    readonly amount: string;
  }[];
  readonly pf: { readonly actual: string; readonly standard: string; readonly percent: string } | null;
  readonly totalKwh: string;
  /** Government funds and surcharges inside the energy charge (代征), shown as their own line. */
  readonly funds: string;
  readonly total: string;
  readonly totalFen: Fen;
  readonly totalInWords: string;
}

const REGISTER_LABELS: Readonly<Record<string, string>> = {
  total: '总',
  sharp: '尖',
  peak: '峰',
  flat: '平',
  valley: '谷',
  reactive: '无功',
};
const CATEGORY_LABELS: Readonly<Record<string, string>> = {
  residential: '居民生活',
  commercial: '工商业',
  large_industry: '工商业两部制',
  agriculture: '农业生产',
  temporary: '临时用电',
};

/** The Chinese label of a bill line code ("energy.peak@2025-07-01" → "电度电费·峰 (自2025-07-01)"). */
export function lineLabel(code: string): string {
  const [base, from] = code.split('@');
  const [kind, detail] = (base ?? '').split('.');
  const label =
    kind === 'energy'
      ? `电度电费·${REGISTER_LABELS[detail ?? ''] ?? detail}`
      : kind === 'tier'
        ? `阶梯加价·第${detail === '2' ? '二' : detail === '3' ? '三' : detail}档`
        : kind === 'basic'
          ? '基本电费'
          : kind === 'pf'
            ? '功率因数调整电费'
            : code;
  return from ? `${label} (自${from})` : label;
}

/** Everything printed on a customer's bill for a period (latest revision). Errors: forbidden, not_found. */
export async function billDocument(
  db: Kysely<DB>,
  principal: Principal,
  customerNo: string,
  period: string,
): Promise<BillDocument> {
  requirePermission(principal, 'customer.read');
  const customer = await db
    .selectFrom('customer_number')
    .innerJoin('customer', 'customer.customer_id', 'customer_number.customer_id')
    .innerJoin('org_unit as station', 'station.org_unit_id', 'customer.station_id')
    .innerJoin('area', 'area.area_id', 'customer.transformer_area_id')
    .innerJoin('tariff', 'tariff.tariff_code', 'customer.tariff_code')
    .select([
      'customer.customer_id',
      'customer.customer_no',
      'customer.name',
      'customer.address',
      'customer.category',
      'customer.transformer_area_id',
      'tariff.name as tariff_name',
      'station.name as station_name',
      'station.path',
      'area.name as area_name',
    ])
    .where('customer_number.customer_no', '=', customerNo)
    .executeTakeFirst();
  if (!customer || !isInScope(principal, customer.path))
    throw new AppError('not_found', `customer ${customerNo} not found`);
  const bill = await db
    .selectFrom('bill')
    .leftJoin('bill_release', (join) =>
      join
        .onRef('bill_release.customer_id', '=', 'bill.customer_id')
        .onRef('bill_release.bill_id', '=', 'bill.bill_id'),
    )
    .select([
      'bill.bill_id',
      'bill.revision',
      'bill.kwh_total',
      'bill.amount_fen',
      'bill.funds_fen',
      'bill.inputs',
      'bill_release.bill_no',
      'bill_release.released_on',
      'bill_release.due_on',
    ])
    .where('bill.customer_id', '=', customer.customer_id)
    .where('bill.period', '=', period)
    .orderBy('bill.revision', 'desc')
    .executeTakeFirst();
  if (!bill) throw new AppError('not_found', `no ${period} bill for ${customerNo}`);
  const [lines, county, manager, reads, versions] = await Promise.all([
    db
      .selectFrom('bill_line')
      .selectAll()
      .where('customer_id', '=', customer.customer_id)
      .where('bill_id', '=', bill.bill_id)
      .orderBy('line_no')
      .execute(),
    db.selectFrom('org_unit').select('name').where('kind', '=', 'county').executeTakeFirst(),
    db
      .selectFrom('area_assignment')
      .innerJoin('staff', 'staff.staff_id', 'area_assignment.staff_id')
      .select(['staff.name', 'staff.phone'])
      .where('area_assignment.area_id', '=', customer.transformer_area_id)
      .where('area_assignment.valid_from', '<=', `${period}-28`)
      .orderBy('area_assignment.valid_from', 'desc')
      .executeTakeFirst(),
    sql<{
      meter_no: string;
      multiplier: number;
      registers: string[];
      previous: Record<string, string | null> | null;
      current: Record<string, string | null> | null;
    }>`
      select m.meter_no, m.multiplier, m.registers,
        (select to_jsonb(p) from (select total, sharp, peak, flat, valley, reactive from meter_read r
           where r.customer_id = m.customer_id and r.meter_id = m.meter_id and r.period < ${period}
           order by r.period desc, r.read_on desc, r.meter_read_id desc limit 1) p) as previous,
        (select to_jsonb(c) from (select total, sharp, peak, flat, valley, reactive from meter_read r
           where r.customer_id = m.customer_id and r.meter_id = m.meter_id and r.period = ${period}
           order by r.read_on desc, r.meter_read_id desc limit 1) c) as current
      from meter m where m.customer_id = ${customer.customer_id}
        and exists (select 1 from meter_read r where r.customer_id = m.customer_id and r.meter_id = m.meter_id and r.period = ${period})
      order by m.meter_id`.execute(db),
    db.selectFrom('tariff_version').select(['tariff_version_id', 'definition']).execute(),
  ]);
  const inputs = bill.inputs as BillInputsRecord;
  let pf: BillDocument['pf'] = null;
  const firstPart = inputs.parts[0];
  const standard = (
    versions.find((version) => version.tariff_version_id === firstPart?.tariffVersionId)?.definition as
      | { pfStandard?: string }
      | undefined
  )?.pfStandard;
  if (standard && firstPart) {
    const kwh = inputs.parts.reduce(
      (sum, part) =>
        sum.plus(
          Object.values((part.usage as { kwh: Record<string, string> }).kwh).reduce(
            (s, v) => s.plus(v),
            new Decimal(0),
          ),
        ),
      new Decimal(0),
    );
    const kvarh = inputs.parts.reduce(
      (sum, part) => sum.plus((part.usage as { kvarh?: string }).kvarh ?? '0'),
      new Decimal(0),
    );
    const actual = powerFactor(kwh, kvarh);
    pf = {
      actual: fixedDecimal(actual, 2),
      standard,
      percent: formatPercentHundredths(pfAdjustmentHundredths(actual, standard as '0.90' | '0.85' | '0.80')),
    };
  }
  const totalFen = fen(bill.amount_fen);
  return {
    county: county?.name ?? '',
    station: customer.station_name,
    transformerArea: customer.area_name,
    areaManager: manager ? { name: manager.name, phone: manager.phone } : null,
    customer: {
      customerNo: customer.customer_no,
      name: customer.name,
      address: customer.address,
      category: CATEGORY_LABELS[customer.category] ?? customer.category,
      tariff: customer.tariff_name,
    },
    bill: {
      period,
      billNo: bill.bill_no,
      revision: bill.revision,
      releasedOn: bill.released_on,
      dueOn: bill.due_on,
    },
    reads: reads.rows.flatMap((meter) =>
      meter.registers.map((register) => ({
        meterNo: meter.meter_no,
        multiplier: meter.multiplier,
        register: REGISTER_LABELS[register] ?? register,
        previous: meter.previous?.[register] ?? null,
        current: meter.current?.[register] ?? null,
      })),
    ),
    lines: lines.map((line) => ({
      code: line.code,
      label: lineLabel(line.code),
      kwh: line.kwh,
      price: line.price,
      amount: formatYuan(fen(line.amount_fen)),
    })),
    pf,
    totalKwh: bill.kwh_total,
    funds: formatYuan(fen(bill.funds_fen)),
    total: formatYuan(totalFen),
    totalFen,
    totalInWords: chineseUppercaseYuan(totalFen),
  };
}

export interface AreaBillList {
  readonly county: string;
  readonly station: string;
  readonly transformerArea: string;
  readonly areaManager: string | null;
  readonly period: string;
  readonly rows: readonly {
    readonly customerNo: string;
    readonly name: string;
    readonly address: string;
    readonly kwh: string;
    readonly amount: string;
    readonly dueOn: string | null;
    readonly billNo: string | null;
  }[];
  readonly total: string;
}

/** The printable list of a transformer area's bills for rural electricians. Errors: forbidden, not_found. */
export async function areaBillList(
  db: Kysely<DB>,
  principal: Principal,
  areaCode: string,
  period: string,
): Promise<AreaBillList> {
  requirePermission(principal, 'customer.read');
  const area = await db
    .selectFrom('area')
    .innerJoin('org_unit as station', 'station.org_unit_id', 'area.station_id')
    .select(['area.area_id', 'area.name', 'station.name as station_name', 'station.path'])
    .where('area.code', '=', areaCode)
    .where('area.kind', '=', 'transformer_area')
    .executeTakeFirst();
  if (!area || !isInScope(principal, area.path))
    throw new AppError('not_found', `transformer area ${areaCode} not found`);
  const [rows, county, manager] = await Promise.all([
    sql<{
      customer_no: string;
      name: string;
      address: string;
      kwh_total: string;
      amount_fen: number;
      due_on: string | null;
      bill_no: string | null;
    }>`
      select distinct on (c.customer_id) c.customer_no, c.name, c.address, b.kwh_total, b.amount_fen, r.due_on, r.bill_no
      from customer c join bill b on b.customer_id = c.customer_id and b.period = ${period}
      left join bill_release r on r.customer_id = b.customer_id and r.bill_id = b.bill_id
      where c.transformer_area_id = ${area.area_id}
      order by c.customer_id, b.revision desc`.execute(db),
    db.selectFrom('org_unit').select('name').where('kind', '=', 'county').executeTakeFirst(),
    db
      .selectFrom('area_assignment')
      .innerJoin('staff', 'staff.staff_id', 'area_assignment.staff_id')
      .select(['staff.name'])
      .where('area_assignment.area_id', '=', area.area_id)
      .where('area_assignment.valid_from', '<=', `${period}-28`)
      .orderBy('area_assignment.valid_from', 'desc')
      .executeTakeFirst(),
  ]);
  const totalFen = rows.rows.reduce((sum, row) => sum + Number(row.amount_fen), 0);
  return {
    county: county?.name ?? '',
    station: area.station_name,
    transformerArea: area.name,
    areaManager: manager?.name ?? null,
    period,
    rows: rows.rows.map((row) => ({
      customerNo: row.customer_no,
      name: row.name,
      address: row.address,
      kwh: row.kwh_total,
      amount: formatYuan(fen(Number(row.amount_fen))),
      dueOn: row.due_on,
      billNo: row.bill_no,
    })),
    total: formatYuan(fen(totalFen)),
  };
}
