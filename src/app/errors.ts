/**
 * The one catalogue of error codes (docs/error-codes.md). Codes are lower snake_case, never
 * renamed; HTTP maps them to statuses in one place (adapters/http/error-mapper.ts).
 */
export const ERROR_CODES = {
  validation_failed: 'the input does not satisfy the schema; the message names the field',
  unauthenticated: 'no valid session token',
  invalid_credentials: 'login or password is wrong, or the staff member is inactive',
  forbidden: 'the role does not allow this action',
  out_of_scope: 'the object lies outside the staff member’s org subtree',
  not_found: 'no such object',
  database_not_empty: 'the demo county is created only in an empty database',
  demo_parameters_differ: 'the database already holds a demo county made with other parameters',
  migration_failed: 'a migration could not be applied',
  exception_already_resolved: 'the read exception has already been resolved',
  resolution_not_allowed: 'this kind of read exception cannot be resolved that way',
  bill_not_released: 'only a released bill can be rebilled; a draft is simply not released',
  bill_superseded: 'a later revision of this bill exists; rebill that one',
  rebill_pending: 'a rebill request for this bill is already waiting for approval',
  rebill_already_approved: 'this rebill request has already been approved',
  same_person_approval: 'an approval needs a second person: the requester cannot approve',
  rebill_reads_held: 'the recomputed bill is held by read validation; resolve the reads first',
  pdf_font_missing: 'no font with Chinese glyphs is installed for PDF documents',
  payment_key_conflict: 'the payment key was already used with another customer or amount',
  payment_already_reversed: 'the payment has already been reversed; reversing twice is refused',
  tariff_overlap: 'a tariff version overlaps another version of the same tariff',
  tariff_version_conflict: 'a tariff version with this start date is already stored with another definition',
  channel_headers_missing:
    'a channel request lacks X-Channel-Id, X-Timestamp, X-Nonce or X-Signature, or the nonce is malformed',
  channel_unknown:
    'no channel with this id, or a disabled one and the signature does not match (indistinguishable)',
  channel_disabled: 'the channel is disabled (told only to a request whose signature matches)',
  channel_timestamp_out_of_window: 'X-Timestamp is more than 300 s away from server time',
  channel_signature_invalid: 'X-Signature does not match the request and any valid secret of the channel',
  channel_nonce_reused: 'the channel used this X-Nonce within the last 600 s',
  rate_limited: 'the channel sends more requests per second than its agreement allows',
  service_unavailable: 'the server cannot take the request now; nothing was recorded, retry later',
  reversal_closed:
    'the reconciliation of the payment’s business day is accepted; reversal is closed (refund instead)',
  business_day_closed: 'the reconciliation of this business day is accepted; no more payments on it',
  reconciliation_closed: 'the day’s reconciliation was accepted with other lines; it cannot be replaced',
  bank_file_rejected: 'a bank file fails a check of the contract; nothing from it was posted',
  case_already_resolved: 'the reconciliation case already has a resolution',
  case_not_requested: 'the reconciliation case has no resolution waiting for approval',
  payment_refunded: 'part of the payment was refunded; it cannot be reversed',
  request_already_decided: 'the request was already approved or rejected',
  request_not_approved: 'the request is not approved (or already paid out)',
  nothing_to_settle: 'nothing is open on the bill for this action any more',
  insufficient_balance: 'the customer’s prepaid balance or deposit is smaller than the amount',
  hold_already_approved: 'the policy hold is already approved',
  bill_written_off: 'the bill was written off as bad debt; it is not rebilled',
  paid_at_out_of_window:
    'paidAt lies before the channel’s open business days or before the release of a bill it would pay',
  amount_above_limit: 'the amount is above the channel’s maximum per payment',
  payload_too_large: 'the request body is larger than the endpoint accepts; it was not read',
  uri_too_long: 'a path parameter of the request is longer than the server accepts',
  login_throttled: 'too many failed logins for this login or address; wait the seconds the message names',
  demo_password_refused: 'a published demo password is refused on a database that is not the demo',
  password_rejected: 'the new password fails the policy (length, contains the login, a demo password)',
  login_taken: 'a staff member with this login already exists',
  already_initialised: 'the database already has staff (or is the demo); its first administrator exists',
  encryption_key_required:
    'PostgreSQL needs an explicit key: GRIDCOLLECT_ENCRYPTION_KEY_FILE or GRIDCOLLECT_ENCRYPTION_KEY',
  encryption_key_file_missing:
    'the key file does not exist or is not a file (a database that has a key never gets a new one silently)',
  encryption_key_invalid: 'the configured key is not 64 hex characters (32 bytes)',
  encryption_key_file_insecure:
    'the key file is readable or writable by group or others (chmod 600), or would lie inside a git checkout',
  encryption_key_compromised:
    'the key is public (the data.key once committed); rotate with gridcollect keys rotate',
  encryption_key_wrong: 'the key does not match the key check value stored in the database',
  encryption_key_unchecked:
    'the database holds values encrypted before key checks; run gridcollect keys rotate once',
  key_rotation_unfinished:
    'a key rotation was interrupted; rerun gridcollect keys rotate with the same keys to finish it',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An operating error: a handled value with a code from the catalogue, never a crash. */
export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
