/**
 * Staff roles and what each may do. Scope (which customers) comes from the staff member's org
 * unit; permission (which actions) comes from the roles below. Both are checked on every request.
 */
export const STAFF_ROLES = [
  'admin',
  'marketing_manager',
  'finance_manager',
  'station_head',
  'billing_checker',
  'cashier',
  'collector',
] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export const PERMISSIONS = [
  'registry.read',
  'registry.write',
  'customer.read',
  'customer.read_sensitive',
  'reads.read',
  'reads.resolve',
  'reads.import',
  'tariff.manage',
  'billing.rebill_request',
  'billing.approve',
  'payment.post',
  'payment.reverse',
  'billing.run',
  'billing.release',
  'audit.read',
  'channel.manage',
  'reconciliation.read',
  'reconciliation.resolve',
  'withholding.run',
  'cash.deposit',
  'cash.supervise',
  /** Ask for a policy hold, a late-fee waiver, a write-off or a refund. */
  'ledger.request',
  /** Approve or reject such a request (a second person), pay out an approved refund. */
  'ledger.approve',
  /** Add, disable and enable staff accounts and reset their passwords (within the org subtree). */
  'staff.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Staff roles, plus the role a collection channel acts in through the channel API. */
export type ActorRole = StaffRole | 'channel_partner';

const ROLE_PERMISSIONS: Readonly<Record<ActorRole, readonly Permission[]>> = {
  admin: PERMISSIONS,
  channel_partner: ['customer.read', 'payment.post', 'payment.reverse'],
  marketing_manager: [
    'registry.read',
    'customer.read',
    'reads.read',
    'tariff.manage',
    'audit.read',
    'ledger.request',
    'ledger.approve',
  ],
  finance_manager: [
    'registry.read',
    'customer.read',
    'billing.approve',
    'audit.read',
    'reconciliation.read',
    'reconciliation.resolve',
    'withholding.run',
    'channel.manage',
    'cash.deposit',
    'cash.supervise',
    'ledger.request',
    'ledger.approve',
  ],
  station_head: [
    'registry.read',
    'registry.write',
    'customer.read',
    'customer.read_sensitive',
    'reads.read',
    'billing.release',
    'billing.approve',
    'audit.read',
    'cash.deposit',
    'cash.supervise',
    'ledger.request',
    'ledger.approve',
  ],
  billing_checker: [
    'registry.read',
    'customer.read',
    'reads.read',
    'reads.resolve',
    'billing.run',
    'billing.release',
    'billing.rebill_request',
    'ledger.request',
  ],
  cashier: [
    'registry.read',
    'customer.read',
    'payment.post',
    'payment.reverse',
    'cash.deposit',
    'ledger.request',
  ],
  collector: ['registry.read', 'customer.read', 'reads.read', 'reads.import', 'payment.post', 'cash.deposit'],
};

export function isStaffRole(value: string): value is StaffRole {
  return (STAFF_ROLES as readonly string[]).includes(value);
}

export function hasPermission(roles: readonly ActorRole[], permission: Permission): boolean {
  return roles.some((role) => ROLE_PERMISSIONS[role].includes(permission));
}

/** Org units form a tree with materialised paths ("1/4/12/"); a path is inside a scope when it starts with it. */
export function isWithinScope(scopePath: string, orgPath: string): boolean {
  return orgPath.startsWith(scopePath);
}
