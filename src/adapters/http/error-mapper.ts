import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../app/errors.js';

/** The one place where error codes become HTTP statuses. */
export const STATUS: Readonly<Record<ErrorCode, number>> = {
  validation_failed: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  forbidden: 403,
  out_of_scope: 403,
  not_found: 404,
  database_not_empty: 409,
  demo_parameters_differ: 409,
  migration_failed: 500,
  exception_already_resolved: 409,
  resolution_not_allowed: 422,
  bill_not_released: 409,
  bill_superseded: 409,
  rebill_pending: 409,
  rebill_already_approved: 409,
  same_person_approval: 403,
  rebill_reads_held: 422,
  pdf_font_missing: 503,
  payment_key_conflict: 409,
  payment_already_reversed: 409,
  tariff_overlap: 409,
  tariff_version_conflict: 409,
  channel_headers_missing: 401,
  channel_unknown: 401,
  channel_disabled: 401,
  channel_timestamp_out_of_window: 401,
  channel_signature_invalid: 401,
  channel_nonce_reused: 401,
  rate_limited: 429,
  service_unavailable: 503,
  reversal_closed: 422,
  business_day_closed: 422,
  reconciliation_closed: 422,
  bank_file_rejected: 422,
  case_already_resolved: 409,
  case_not_requested: 409,
  payment_refunded: 409,
  request_already_decided: 409,
  request_not_approved: 409,
  nothing_to_settle: 409,
  insufficient_balance: 422,
  hold_already_approved: 409,
  bill_written_off: 409,
  paid_at_out_of_window: 422,
  amount_above_limit: 422,
  payload_too_large: 413,
  uri_too_long: 414,
  login_throttled: 429,
  demo_password_refused: 403,
  password_rejected: 422,
  login_taken: 409,
  already_initialised: 409,
  encryption_key_required: 500,
  encryption_key_file_missing: 500,
  encryption_key_invalid: 500,
  encryption_key_file_insecure: 500,
  encryption_key_compromised: 500,
  encryption_key_wrong: 500,
  encryption_key_unchecked: 500,
  key_rotation_unfinished: 500,
};

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof AppError) {
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    reply.status(STATUS[error.code]).send(errorBody(error.code, error.message));
    return;
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    reply
      .status(400)
      .send(
        errorBody(
          'validation_failed',
          `${fastifyError.validationContext ?? 'request'}${fastifyError.message.replace(/^(body|querystring|params|headers)/, '')}`,
        ),
      );
    return;
  }
  if (fastifyError.statusCode === 413) {
    if (!request.raw.complete) reply.header('connection', 'close');
    reply.status(413).send(errorBody('payload_too_large', fastifyError.message));
    return;
  }
  if (fastifyError.statusCode && fastifyError.statusCode < 500) {
    reply.status(fastifyError.statusCode).send(errorBody('validation_failed', fastifyError.message));
    return;
  }
  request.log.error({ err: error }, 'unhandled error');
  reply.status(500).send(errorBody('internal_error', 'internal error; see the server log'));
}
