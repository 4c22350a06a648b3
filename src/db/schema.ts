import type { ColumnType, Generated } from 'kysely';

/**
 * Kysely table types for the SQL migrations in ./migrations. int8 arrives as number, numeric as
 * an exact decimal string and date as "YYYY-MM-DD" on both backends (type-parsers.ts).
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;
type Numeric = string;

export interface OrgUnitTable {
  org_unit_id: number;
  parent_id: number | null;
  kind: 'county' | 'station' | 'team';
  code: string;
  name: string;
  name_en: string;
  path: string;
  created_at: Timestamp;
}

export interface StaffTable {
  staff_id: number;
  org_unit_id: number;
  login: string;
  name: string;
  roles: string[];
  phone: string | null;
  password_hash: string;
  active: Generated<boolean>;
  created_at: Timestamp;
  password_changed_at: Timestamp | null;
}

export interface StaffSessionTable {
  token_hash: string;
  staff_id: number;
  created_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
  channel: ColumnType<'api' | 'cli', 'api' | 'cli' | undefined, 'api' | 'cli'>;
  os_user: string | null;
}

/** Installation-wide settings (the demo marker); values are JSON. */
export interface InstallationSettingTable {
  key: string;
  value: Json;
  updated_at: Timestamp;
}

/** Failed logins per "login:<login>" or "address:<address>" key. */
export interface LoginThrottleTable {
  throttle_key: string;
  failures: number;
  last_failure_at: Timestamp;
  locked_until: Timestamp | null;
}

export interface AreaTable {
  area_id: number;
  station_id: number;
  parent_area_id: number | null;
  kind: 'feeder_line' | 'transformer_area';
  code: string;
  name: string;
  transformer_kva: number | null;
  created_at: Timestamp;
}

export interface AreaAssignmentTable {
  area_assignment_id: Generated<number>;
  area_id: number;
  staff_id: number;
  valid_from: string;
  assigned_by: number | null;
  note: string | null;
  created_at: Timestamp;
}

export interface TariffTable {
  tariff_code: string;
  name: string;
  name_en: string;
  category: string;
  structure: string;
  created_at: Timestamp;
}

export interface TariffVersionTable {
  tariff_version_id: Generated<number>;
  tariff_code: string;
  effective_from: string;
  effective_to: string | null;
  jurisdiction: string;
  source: string;
  definition: Json;
  created_at: Timestamp;
}

export interface LedgerAccountTable {
  ledger_account_code: string;
  name: string;
  name_en: string;
  kind: string;
  sub_key_kind: string;
}

export interface ChannelTable {
  channel_code: string;
  name: string;
  kind: string;
  enabled: Generated<boolean>;
  secret_encrypted: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  file_encoding: Generated<'utf-8' | 'gbk'>;
  fee_per_txn_fen: Generated<number>;
  fee_rate: Generated<Numeric>;
  rate_limit_per_second: Generated<number>;
  withholding_retry_rounds: Generated<number>;
  /** Business days open to a payment's paidAt, today included (migration 0012). */
  paid_at_window_days: Generated<number>;
  /** The largest amount of one payment, in fen (migration 0012). */
  max_payment_fen: Generated<number>;
}

export interface ChannelSecretTable {
  channel_code: string;
  secret_no: number;
  secret_encrypted: string;
  valid_from: Timestamp;
  valid_until: Timestamp | null;
}

export interface EncryptionKeyCheckTable {
  singleton: Generated<boolean>;
  key_id: string;
  check_value: string;
  rotating_to_key_id: string | null;
  rotating_check_value: string | null;
  updated_at: Timestamp;
}

export interface ChannelNonceTable {
  nonce_key: string;
  seen_at: Timestamp;
}

export interface ChannelReconciliationTable {
  channel_code: string;
  business_date: string;
  submission_no: number;
  lines_hash: string;
  line_count: number;
  total_fen: number;
  lines: Json;
  matched: number;
  matched_total_fen: number;
  discrepancy_count: number;
  submitted_at: Timestamp;
}

export interface ChannelDayAcceptedTable {
  channel_code: string;
  business_date: string;
  submission_no: number;
  accepted_at: Timestamp;
  how: 'clean_match' | 'cases_resolved';
}

export interface ReconciliationCaseTable {
  case_id: Generated<number>;
  channel_code: string;
  business_date: string;
  submission_no: number;
  txn_id: string;
  kind: 'missing_at_utility' | 'missing_at_channel' | 'amount_mismatch' | 'status_mismatch';
  channel_line: Json | null;
  utility_line: Json | null;
  created_at: Timestamp;
}

export interface ReconciliationCaseActionTable {
  case_id: number;
  action: 'post_missing' | 'reverse' | 'escalate' | 'no_action';
  reason: string;
  requested_by: number | null;
  requested_at: Timestamp;
  approved_by: number | null;
  approved_at: Timestamp | null;
  receipt_no: string | null;
}

export interface WithholdingBatchTable {
  bank_code: string;
  batch_no: string;
  batch_date: string;
  file_name: string;
  line_count: number;
  total_fen: number;
  created_at: Timestamp;
}

export interface WithholdingLineTable {
  customer_id: number;
  bank_code: string;
  batch_no: string;
  seq: number;
  account_no_masked: string;
  account_name: string;
  amount_fen: number;
}

export interface WithholdingLineBillTable {
  customer_id: number;
  bank_code: string;
  batch_no: string;
  bill_id: number;
}

export interface WithholdingResultFileTable {
  bank_code: string;
  batch_no: string;
  file_hash: string;
  file_name: string;
  success_count: number;
  success_total_fen: number;
  failed_count: number;
  imported_at: Timestamp;
}

export interface CashDepositTable {
  deposit_id: Generated<number>;
  staff_id: number;
  source_kind: 'collector' | 'counter';
  slip_no: string;
  bank_account: string;
  amount_fen: number;
  deposited_on: string;
  recorded_by: number | null;
  recorded_at: Timestamp;
}

export interface CounterShiftCloseTable {
  staff_id: number;
  business_date: string;
  system_total_fen: number;
  counted_fen: number;
  difference_fen: number;
  payments: number;
  note: string | null;
  closed_by: number | null;
  closed_at: Timestamp;
}

export interface CashDepositItemTable {
  customer_id: number;
  payment_id: number;
  deposit_id: number;
  amount_fen: number;
  journal_entry_id: number;
}

export interface WithholdingResultTable {
  customer_id: number;
  bank_code: string;
  batch_no: string;
  seq: number;
  amount_fen: number;
  result_code: string;
  bank_txn_id: string;
  message: string;
  receipt_no: string | null;
}

export interface JobRunTable {
  run_key: string;
  kind: string;
  params: Json;
  status: 'running' | 'done' | 'failed';
  partitions: number;
  started_at: Timestamp;
  finished_at: Timestamp | null;
  summary: Json | null;
}

export interface JobPartitionTable {
  run_key: string;
  partition_no: number;
  status: 'pending' | 'done';
  done_at: Timestamp | null;
  worker: string | null;
  items: number | null;
  summary: Json | null;
}

export interface CustomerTable {
  customer_id: number;
  customer_no: string;
  name: string;
  category: 'residential' | 'commercial' | 'large_industry' | 'agriculture' | 'temporary';
  station_id: number;
  transformer_area_id: number;
  address: string;
  phone: string | null;
  national_id_encrypted: string | null;
  national_id_masked: string | null;
  billing_mode: 'postpaid' | 'remote_prepaid' | 'card_prepaid';
  protected: Generated<boolean>;
  protection_reason: string | null;
  household_size: number | null;
  contract_capacity_kva: Numeric | null;
  pf_standard: Numeric | null;
  tariff_code: string;
  metering_side: Generated<'high' | 'low'>;
  due_rule: string;
  occupancy: Generated<'occupied' | 'vacant'>;
  status: 'active' | 'suspended' | 'closed';
  opened_on: string;
  closed_on: string | null;
  contract_demand_kw: Numeric | null;
  created_at: Timestamp;
}

export interface CustomerAccountTable {
  customer_id: number;
  customer_account_id: number;
  account_no: string;
  opened_on: string;
  withholding_bank_code: string | null;
  withholding_account_no_encrypted: string | null;
  withholding_account_no_masked: string | null;
  withholding_account_name: string | null;
  withholding_signed_on: string | null;
  created_at: Timestamp;
}

export interface MeterTable {
  customer_id: number;
  meter_id: number;
  meter_no: string;
  phase: 'single' | 'three';
  multiplier: number;
  register_digits: number;
  registers: string[];
  installed_on: string;
  removed_on: string | null;
  initial_reads: ColumnType<unknown, string | undefined, string>;
  created_at: Timestamp;
}

export interface MeterReadTable {
  customer_id: number;
  meter_read_id: number;
  meter_id: number;
  period: string;
  read_on: string;
  kind: 'actual' | 'estimated';
  source: 'manual' | 'handheld' | 'ami' | 'estimate' | 'correction';
  total: Numeric | null;
  sharp: Numeric | null;
  peak: Numeric | null;
  flat: Numeric | null;
  valley: Numeric | null;
  reactive: Numeric | null;
  read_by: number | null;
  supersedes_read_id: number | null;
  import_key: string | null;
  demand: Numeric | null;
  created_at: Timestamp;
}

export interface PostingTable {
  customer_id: number;
  journal_entry_id: number;
  line_no: number;
  ledger_account_code: string;
  sub_key: Generated<string>;
  amount_fen: number;
}

export interface AuditLogTable {
  audit_id: Generated<number>;
  at: Timestamp;
  actor_kind: 'staff' | 'channel' | 'system' | 'cli';
  actor_id: string;
  action: string;
  object_type: string | null;
  object_id: string | null;
  customer_id: number | null;
  org_unit_id: number | null;
  details: ColumnType<unknown, string | undefined, string>;
  request_ip: string | null;
  channel: 'cli' | 'api' | 'channel' | 'job' | null;
  os_user: string | null;
}

export interface DemoCountyTable {
  demo_id: number;
  seed: number;
  customers: number;
  months: number;
  first_period: string;
  last_period: string;
  created_at: Timestamp;
}

export interface SchemaMigrationTable {
  version: string;
  name: string;
  checksum: string;
  applied_at: Timestamp;
}

export interface CustomerNumberTable {
  customer_no: string;
  customer_id: number;
}

export interface MeterNumberTable {
  meter_no: string;
  customer_id: number;
  meter_id: number;
}

export interface DemoCustomerBehaviourTable {
  customer_id: number;
  payment_behaviour: 'on_time' | 'late' | 'chronic_arrears' | 'disappears';
  preferred_channel: 'counter' | 'collector' | 'bank_withholding' | 'realtime';
  pay_delay_days: number;
  disappears_after: string | null;
}

export interface DemoReadFaultTable {
  customer_id: number;
  meter_id: number;
  period: string;
  fault: string;
}

export interface MeterChangeTable {
  customer_id: number;
  meter_change_id: number;
  old_meter_id: number;
  new_meter_id: number;
  changed_on: string;
  reason: string;
  old_final: unknown;
  new_initial: unknown;
  created_at: Timestamp;
}

export interface BillTable {
  customer_id: number;
  bill_id: number;
  period: string;
  revision: Generated<number>;
  replaces_bill_id: number | null;
  billing_run_key: string | null;
  tariff_version_id: number | null;
  kwh_total: Numeric;
  amount_fen: number;
  funds_fen: Generated<number>;
  inputs: Json;
  created_at: Timestamp;
}

export interface BillLineTable {
  customer_id: number;
  bill_id: number;
  line_no: number;
  code: string;
  kwh: Numeric | null;
  price: Numeric | null;
  amount_fen: number;
}

export interface BillReleaseTable {
  customer_id: number;
  bill_id: number;
  bill_no: string;
  released_on: string;
  due_on: string;
  released_by: number | null;
  released_at: Timestamp;
}

export interface JournalEntryTable {
  customer_id: number;
  journal_entry_id: number;
  kind: string;
  effective_on: string;
  posted_at: Timestamp;
  reverses_entry_id: number | null;
  idempotency_key: string | null;
  source_type: string | null;
  source_id: string | null;
  memo: string | null;
  created_by: number | null;
}

export interface ReadCorrectionTable {
  customer_id: number;
  read_correction_id: number;
  meter_id: number;
  period: string;
  exception_code: string;
  read_on: string;
  kind: 'actual' | 'estimated';
  source: 'manual' | 'handheld' | 'ami';
  total: Numeric | null;
  sharp: Numeric | null;
  peak: Numeric | null;
  flat: Numeric | null;
  valley: Numeric | null;
  reactive: Numeric | null;
  demand: Numeric | null;
  read_by: number | null;
  conflicts_with_read_id: number;
  file_name: string;
  line: number;
  import_key: string;
  created_at: Timestamp;
}

export interface ReadExceptionTable {
  customer_id: number;
  period: string;
  code: string;
  severity: 'hold' | 'warn';
  detail: ColumnType<unknown, string | undefined, string>;
  billing_run_key: string;
  created_at: Timestamp;
}

export interface ReadExceptionResolutionTable {
  customer_id: number;
  period: string;
  code: string;
  resolution: 'confirmed' | 'corrected' | 'estimated' | 'rejected';
  method: string | null;
  note: string | null;
  resolved_by: number | null;
  resolved_at: Timestamp;
}

export interface RebillRequestTable {
  customer_id: number;
  rebill_request_id: number;
  bill_id: number;
  reason: string;
  requested_by: number | null;
  requested_at: Timestamp;
}

export interface RebillApprovalTable {
  customer_id: number;
  rebill_request_id: number;
  approved_by: number;
  approved_at: Timestamp;
  reversal_entry_id: number | null;
  new_bill_id: number;
}

export interface CapacityChangeTable {
  customer_id: number;
  capacity_change_id: number;
  kind: 'suspension' | 'temporary_swap' | 'increase' | 'decrease';
  from_date: string;
  to_date: string | null;
  capacity_kva: Numeric;
  approved_by: number | null;
  note: string | null;
  created_at: Timestamp;
}

export interface PaymentTable {
  customer_id: number;
  payment_id: number;
  idempotency_key: string;
  input_hash: string;
  channel_code: string;
  channel_txn_id: string | null;
  amount_fen: number;
  paid_at: Timestamp;
  business_date: string;
  operator_staff_id: number | null;
  receipt_no: string;
  journal_entry_id: number;
  created_at: Timestamp;
}

export interface PaymentKeyTable {
  idempotency_key: string;
  customer_id: number;
  payment_id: number;
  input_hash: string;
}

export interface AllocationTable {
  customer_id: number;
  allocation_id: number;
  payment_id: number;
  bill_id: number | null;
  kind: 'principal' | 'late_fee' | 'prepaid' | 'refunded';
  amount_fen: number;
  reverses_allocation_id: number | null;
  journal_entry_id: number;
  created_at: Timestamp;
  applied_on: string | null;
}

export interface PolicyHoldTable {
  hold_id: Generated<number>;
  scope_kind: 'all' | 'category' | 'station' | 'customer';
  scope_value: string;
  starts_on: string;
  ends_on: string;
  no_late_fee: boolean;
  no_disconnection: boolean;
  reason: string;
  source: string | null;
  requested_by: number | null;
  requested_at: Timestamp;
}

export interface PolicyHoldApprovalTable {
  hold_id: number;
  approved_by: number;
  approved_at: Timestamp;
}

export interface LedgerRequestTable {
  customer_id: number;
  request_id: number;
  kind: 'late_fee_waiver' | 'write_off' | 'refund';
  bill_id: number | null;
  amount_fen: number;
  refund_from: 'prepaid' | 'deposit' | null;
  reason: string;
  requested_by: number | null;
  requested_at: Timestamp;
}

export interface LedgerRequestStepTable {
  customer_id: number;
  request_id: number;
  step: 'approved' | 'rejected' | 'paid_out';
  by_staff: number | null;
  at: Timestamp;
  journal_entry_id: number | null;
  note: string | null;
}

export interface BillCreditTable {
  customer_id: number;
  bill_credit_id: number;
  bill_id: number;
  kind: 'write_off' | 'late_fee_waiver';
  amount_fen: number;
  effective_on: string;
  request_id: number;
  journal_entry_id: number | null;
}

export interface CustomerDepositReceiptTable {
  customer_id: number;
  deposit_receipt_id: number;
  idempotency_key: string;
  amount_fen: number;
  method: 'cash' | 'bank_transfer';
  received_on: string;
  received_by: number | null;
  receipt_no: string;
  journal_entry_id: number;
  created_at: Timestamp;
}

export interface NotificationOutboxTable {
  customer_id: number;
  notification_id: number;
  kind: 'payment_receipt' | 'payment_reversed' | 'refund_paid' | 'write_off' | 'late_fee_waived';
  object_id: string;
  payload: Json;
  created_at: Timestamp;
}

export interface NotificationAttemptTable {
  customer_id: number;
  notification_id: number;
  attempt_no: number;
  at: Timestamp;
  outcome: 'sent' | 'failed';
  detail: string | null;
}

export interface LateFeeSnapshotTable {
  customer_id: number;
  period: string;
  as_of: string;
  overdue_principal_fen: number;
  late_fee_fen: number;
  bills: number;
}

export interface PaymentReversalTable {
  customer_id: number;
  payment_id: number;
  reason: string;
  reversed_at: Timestamp;
  reversed_by: number | null;
  approved_by: number | null;
  journal_entry_id: number;
}

export interface DB {
  policy_hold: PolicyHoldTable;
  policy_hold_approval: PolicyHoldApprovalTable;
  ledger_request: LedgerRequestTable;
  ledger_request_step: LedgerRequestStepTable;
  bill_credit: BillCreditTable;
  customer_deposit_receipt: CustomerDepositReceiptTable;
  notification_outbox: NotificationOutboxTable;
  notification_attempt: NotificationAttemptTable;
  late_fee_snapshot: LateFeeSnapshotTable;
  payment_reversal: PaymentReversalTable;
  payment: PaymentTable;
  payment_key: PaymentKeyTable;
  allocation: AllocationTable;
  capacity_change: CapacityChangeTable;
  rebill_request: RebillRequestTable;
  rebill_approval: RebillApprovalTable;
  meter_change: MeterChangeTable;
  bill: BillTable;
  bill_line: BillLineTable;
  bill_release: BillReleaseTable;
  journal_entry: JournalEntryTable;
  read_correction: ReadCorrectionTable;
  read_exception: ReadExceptionTable;
  read_exception_resolution: ReadExceptionResolutionTable;
  customer_number: CustomerNumberTable;
  meter_number: MeterNumberTable;
  demo_customer_behaviour: DemoCustomerBehaviourTable;
  demo_read_fault: DemoReadFaultTable;
  org_unit: OrgUnitTable;
  staff: StaffTable;
  staff_session: StaffSessionTable;
  area: AreaTable;
  area_assignment: AreaAssignmentTable;
  tariff: TariffTable;
  tariff_version: TariffVersionTable;
  ledger_account: LedgerAccountTable;
  channel: ChannelTable;
  channel_secret: ChannelSecretTable;
  channel_nonce: ChannelNonceTable;
  encryption_key_check: EncryptionKeyCheckTable;
  channel_reconciliation: ChannelReconciliationTable;
  channel_day_accepted: ChannelDayAcceptedTable;
  reconciliation_case: ReconciliationCaseTable;
  reconciliation_case_action: ReconciliationCaseActionTable;
  withholding_batch: WithholdingBatchTable;
  withholding_line: WithholdingLineTable;
  withholding_line_bill: WithholdingLineBillTable;
  withholding_result_file: WithholdingResultFileTable;
  withholding_result: WithholdingResultTable;
  cash_deposit: CashDepositTable;
  cash_deposit_item: CashDepositItemTable;
  counter_shift_close: CounterShiftCloseTable;
  job_run: JobRunTable;
  job_partition: JobPartitionTable;
  customer: CustomerTable;
  customer_account: CustomerAccountTable;
  meter: MeterTable;
  meter_read: MeterReadTable;
  posting: PostingTable;
  audit_log: AuditLogTable;
  installation_setting: InstallationSettingTable;
  login_throttle: LoginThrottleTable;
  demo_county: DemoCountyTable;
  schema_migration: SchemaMigrationTable;
}
