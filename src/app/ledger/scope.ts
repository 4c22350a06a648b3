import { type RawBuilder, sql } from 'kysely';
import { isWithinScope } from '../../domain/staff-role.js';
import type { Principal } from '../principal.js';

/**
 * The one scope rule: a principal sees the org units whose materialised path starts with its
 * scope path (its county or station subtree). Every query and use case asks it here, as a
 * condition for SQL or as a point check on a path already read; test/tidy.test.ts refuses a
 * hand-written `path like scopePath` or `startsWith(scopePath)` anywhere else.
 */

/** The condition "`column` lies in the principal's scope", for `.where(...)` or a raw sql template. */
export function inScopeSql(principal: Pick<Principal, 'scopePath'>, column: string): RawBuilder<boolean> {
  return sql<boolean>`${sql.ref(column)} like ${`${principal.scopePath}%`}`;
}

/** Whether an org path read already lies in the principal's scope (an absent path does not). */
export function isInScope(
  principal: Pick<Principal, 'scopePath'>,
  orgPath: string | null | undefined,
): boolean {
  return orgPath !== null && orgPath !== undefined && isWithinScope(principal.scopePath, orgPath);
}

/** The same rule set-based, when each row carries its own scope path (bulk posting's items). */
export function inScopeOfColumnSql(column: string, scopePathColumn: string): RawBuilder<boolean> {
  return sql<boolean>`starts_with(${sql.ref(column)}, ${sql.ref(scopePathColumn)})`;
}
