import { type ActorRole, type Permission, hasPermission } from '../domain/staff-role.js';
import { AppError } from './errors.js';

/** Where an action came in: the CLI, the staff API, a channel's signed API, or a batch job. */
export type AuditChannel = 'cli' | 'api' | 'channel' | 'job';

/**
 * Who is acting: a logged-in staff member, the operator's CLI (whole county, all permissions),
 * a collection channel authenticated by its request signature (login = channel code), or the
 * system itself (failed logins and lockouts, which have no authenticated actor).
 */
export interface Principal {
  readonly kind: 'staff' | 'cli' | 'channel' | 'system';
  readonly staffId: number | null;
  readonly login: string;
  readonly name: string;
  readonly roles: readonly ActorRole[];
  readonly orgUnitId: number;
  /** Materialised path of the county or station the principal sees: "/1/" or "/1/12/". */
  readonly scopePath: string;
  /** Where the principal acts through; recorded on every audit row (default: from `kind`). */
  readonly channel?: AuditChannel;
  /** For the CLI: the operating-system user who ran the command. */
  readonly osUser?: string | null;
}

/** The channel recorded for a principal that does not name one. */
export function auditChannelOf(principal: Principal): AuditChannel {
  if (principal.channel) return principal.channel;
  if (principal.kind === 'staff') return 'api';
  if (principal.kind === 'channel') return 'channel';
  if (principal.kind === 'system') return 'job';
  return 'cli';
}

/** The operator's CLI acting as the system (read-only and batch commands), with the OS user recorded. */
export function systemCliPrincipal(osUser: string): Principal {
  return { ...CLI_PRINCIPAL, channel: 'cli', osUser };
}

/** The actor of security events that have no authenticated actor (a failed login, a lockout). */
export const AUTH_SYSTEM_PRINCIPAL: Principal = {
  kind: 'system',
  staffId: null,
  login: 'auth',
  name: 'authentication',
  roles: [],
  orgUnitId: 1,
  scopePath: '/',
};

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
    channel: 'channel',
  };
}
