import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.js';
import type { Principal } from '../principal.js';
import {
  APPROVAL_PERMISSION,
  type ApprovalKind,
  requireNamedRequester,
  requireSecondPerson,
} from './two-person-rule.js';

const staff = (staffId: number | null, roles: Principal['roles'], scopePath = '/1/11/'): Principal => ({
  kind: staffId === null ? 'cli' : 'staff',
  staffId,
  login: `s${staffId}`,
  name: 'x',
  roles,
  orgUnitId: 11,
  scopePath,
});
const codeOf = (run: () => void) => {
  try {
    run();
    return 'allowed';
  } catch (error) {
    return error instanceof AppError ? error.code : String(error);
  }
};

// One table, run against every approval kind: who may approve a request asked by staff 7 about
// an org unit of station 11.
const TABLE: readonly { case: string; approver: Principal; requestedBy: number | null; expected: string }[] =
  [
    {
      case: 'a second person with the permission',
      approver: staff(8, ['admin']),
      requestedBy: 7,
      expected: 'allowed',
    },
    {
      case: 'the same person',
      approver: staff(7, ['admin']),
      requestedBy: 7,
      expected: 'same_person_approval',
    },
    {
      case: 'a null requester',
      approver: staff(8, ['admin']),
      requestedBy: null,
      expected: 'same_person_approval',
    },
    {
      case: 'an approver with no staff id',
      approver: staff(null, ['admin'], '/'),
      requestedBy: 7,
      expected: 'forbidden',
    },
    {
      case: 'another station',
      approver: staff(8, ['admin'], '/1/12/'),
      requestedBy: 7,
      expected: 'not_found',
    },
    {
      case: 'a role without the permission',
      approver: staff(8, ['collector']),
      requestedBy: 7,
      expected: 'forbidden',
    },
  ];

describe('the two-person rule', () => {
  for (const kind of Object.keys(APPROVAL_PERMISSION) as ApprovalKind[])
    it.each(TABLE)(`${kind}: $case → $expected`, ({ approver, requestedBy, expected }) => {
      expect(codeOf(() => requireSecondPerson(approver, kind, { requestedBy, orgPath: '/1/11/3/' }))).toBe(
        expected,
      );
    });

  it('asks every request to name its requester', () => {
    expect(requireNamedRequester(staff(7, ['cashier']))).toBe(7);
    expect(codeOf(() => requireNamedRequester(staff(null, ['admin'], '/')))).toBe('forbidden');
  });
});
