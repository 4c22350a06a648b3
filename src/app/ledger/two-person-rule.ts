import type { Permission } from '../../domain/staff-role.js';
import { AppError } from '../errors.js';
import { type Principal, requirePermission } from '../principal.js';
import { isInScope } from './scope.js';

/** Every kind of approval, and the permission its second person needs. */
export const APPROVAL_PERMISSION = {
  rebill: 'billing.approve',
  ledger_request: 'ledger.approve',
  policy_hold: 'ledger.approve',
  reconciliation_case: 'reconciliation.resolve',
} as const satisfies Record<string, Permission>;
export type ApprovalKind = keyof typeof APPROVAL_PERMISSION;

/**
 * The one two-person rule (rebills, ledger requests, policy holds, reconciliation cases): a
 * request names its requester, and a different, named staff member holding the approving
 * permission decides it. Nobody is anonymous on either side: a request without a requester, or
 * an approval by a principal without a staff id (the operator's CLI, a channel), is refused and
 * never skips the rule. With `orgPath` (the org unit the request is about), an approver outside
 * it sees nothing to approve (not_found), as the scope rule has it.
 * Errors: forbidden, not_found, same_person_approval.
 */
export function requireSecondPerson(
  principal: Principal,
  kind: ApprovalKind,
  request: { readonly requestedBy: number | string | null; readonly orgPath?: string | null },
): void {
  requirePermission(principal, APPROVAL_PERMISSION[kind]);
  if (request.orgPath !== undefined && !isInScope(principal, request.orgPath))
    throw new AppError('not_found', `no ${kind.replace('_', ' ')} to approve in scope`);
  const requestedBy = request.requestedBy;
  if (principal.staffId === null)
    throw new AppError('forbidden', 'an approval needs a named second person: act under a staff login');
  if (requestedBy === null)
    throw new AppError(
      'same_person_approval',
      'the request names no requester, so no second person can be told apart',
    );
  if (Number(requestedBy) === principal.staffId)
    throw new AppError('same_person_approval', 'the requester cannot approve or decide their own request');
}

/** A two-person request is asked by a named staff member (so its approver can be told apart). */
export function requireNamedRequester(principal: Principal): number {
  if (principal.staffId === null)
    throw new AppError('forbidden', 'a request needs a named requester: act under a staff login');
  return principal.staffId;
}
