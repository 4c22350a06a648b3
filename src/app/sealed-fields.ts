import type { SealedField } from './ports.js';

/**
 * Every encrypted column, with the key columns that name its row: the one list the key check,
 * the rotation and the writers share. A value's associated data is (table, column, key parts
 * joined by "/").
 */
export const ENCRYPTED_COLUMNS = [
  { table: 'customer', column: 'national_id_encrypted', key: ['customer_id'] },
  {
    table: 'customer_account',
    column: 'withholding_account_no_encrypted',
    key: ['customer_id', 'customer_account_id'],
  },
  { table: 'channel_secret', column: 'secret_encrypted', key: ['channel_code', 'secret_no'] },
  // Before channel_secret (migration 0006) a channel's one secret lived here; new rows leave it null.
  { table: 'channel', column: 'secret_encrypted', key: ['channel_code'] },
] as const;

export type EncryptedColumn = (typeof ENCRYPTED_COLUMNS)[number];

export function sealedField(column: EncryptedColumn, keyParts: readonly (string | number)[]): SealedField {
  return { table: column.table, column: column.column, id: keyParts.map(String).join('/') };
}

export const nationalIdField = (customerId: number): SealedField =>
  sealedField(ENCRYPTED_COLUMNS[0], [customerId]);

export const withholdingAccountField = (customerId: number, customerAccountId: number): SealedField =>
  sealedField(ENCRYPTED_COLUMNS[1], [customerId, customerAccountId]);

export const channelSecretField = (channelCode: string, secretNo: number): SealedField =>
  sealedField(ENCRYPTED_COLUMNS[2], [channelCode, secretNo]);

/** The key check value's own field (not data: the rotation writes it last, from its own column). */
export const KEY_CHECK_FIELD: SealedField = { table: 'encryption_key_check', column: 'check_value', id: '1' };
