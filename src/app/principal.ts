import { type ActorRole, type Permission, hasPermission } from '../domain/staff-role.js';
import { AppError } from './errors.js';

/**
 * Who is acting: a logged-in staff member, the operator's CLI (whole county, all permissions),
 * or a collection channel authenticated by its request signature (login = channel code).
 */
export interface Principal {
  readonly kind: 'staff' | 'cli' | 'channel';
  readonly staffId: number | null;
  readonly login: string;
  readonly name: string;
  readonly roles: readonly ActorRole[];
  readonly orgUnitId: number;
  /** Materialised path of the county or station the principal sees: "/1/" or "/1/12/". */
  readonly scopePath: string;
}

export const CLI_PRINCIPAL: Principal = {
  kind: 'cli',
  staffId: null,
  login: 'cli',
  name: 'gridcollect CLI',
  roles: ['admin'],
  orgUnitId: 1,
  scopePath: '/',
};

export function requirePermission(principal: Principal, permission: Permission): void {
  if (!hasPermission(principal.roles, permission)) {
    throw new AppError('forbidden', `role ${principal.roles.join(',')} may not ${permission}`);
  }
}

/** The principal of a collection channel: the whole county, posting and reversing its own payments. */
export function channelPrincipal(channelCode: string, name: string): Principal {
  return {
    kind: 'channel',
    staffId: null,
    login: channelCode,
    name,
    roles: ['channel_partner'],
    orgUnitId: 1,
    scopePath: '/',
  };
}
