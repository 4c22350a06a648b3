/**
 * Every table belongs to one distribution class (docs/data-distribution.md). Tables not listed
 * here are customer-scoped: they carry customer_id and are distributed by it.
 */
export const REFERENCE_TABLES = [
  'org_unit',
  'staff',
  'staff_session',
  'installation_setting',
  'login_throttle',
  'area',
  'area_assignment',
  'tariff',
  'tariff_version',
  'ledger_account',
  'channel',
  'channel_secret',
  'channel_reconciliation',
  'channel_day_accepted',
  'reconciliation_case',
  'reconciliation_case_action',
  'withholding_batch',
  'withholding_result_file',
  'cash_deposit',
  'counter_shift_close',
  'policy_hold',
  'policy_hold_approval',
  'job_run',
  'job_partition',
  'schema_migration',
  'demo_county',
  'demo_staff_behaviour',
  'encryption_key_check',
] as const;

/** Lookup tables map a public key to its customer and are distributed by that key. */
export const LOOKUP_TABLES = {
  customer_number: 'customer_no',
  meter_number: 'meter_no',
  payment_key: 'idempotency_key',
} as const;

/** Append-only logs, distributed by their own id. */
export const LOG_TABLES = { audit_log: 'audit_id', channel_nonce: 'nonce_key' } as const;

export const DISTRIBUTION_COLUMN = 'customer_id';

export type TableClass = 'reference' | 'lookup' | 'log' | 'customer';

export function classifyTable(table: string): TableClass {
  if ((REFERENCE_TABLES as readonly string[]).includes(table)) return 'reference';
  if (table in LOOKUP_TABLES) return 'lookup';
  if (table in LOG_TABLES) return 'log';
  return 'customer';
}

/** The Citus statements that distribute this schema (printed by `gridcollect db citus-plan`). */
export function citusPlan(tables: readonly string[]): string[] {
  const statements: string[] = [];
  for (const table of tables) {
    const tableClass = classifyTable(table);
    if (tableClass === 'reference') statements.push(`select create_reference_table('${table}');`);
  }
  const customerTables = tables.filter((table) => classifyTable(table) === 'customer');
  // The customer table goes first so that the others can be co-located with it.
  for (const table of ['customer', ...customerTables.filter((t) => t !== 'customer')]) {
    if (!tables.includes(table)) continue;
    const colocate = table === 'customer' ? '' : ", colocate_with => 'customer'";
    statements.push(`select create_distributed_table('${table}', '${DISTRIBUTION_COLUMN}'${colocate});`);
  }
  for (const [table, column] of [...Object.entries(LOOKUP_TABLES), ...Object.entries(LOG_TABLES)]) {
    statements.push(`select create_distributed_table('${table}', '${column}', colocate_with => 'none');`);
  }
  return statements;
}
