/**
 * Staff passwords and failed logins: the policy every new password meets, and the delay that
 * failed logins earn. Pure rules; hashing lives in adapters/crypto, storage in the app layer.
 */

/** The password every demo staff member has; refused on a real installation. */
export const DEMO_PASSWORD = 'gridcollect';

/** Passwords that are published with GridCollect (its demo, its docs): never a real password. */
export const KNOWN_DEMO_PASSWORDS: readonly string[] = [DEMO_PASSWORD, 'gridcollect-demo', 'password123'];

export const MIN_PASSWORD_LENGTH = 10;
export const MAX_PASSWORD_LENGTH = 256;

export type PasswordProblem = 'too_short' | 'too_long' | 'contains_login' | 'known_demo_password';

export function isKnownDemoPassword(password: string): boolean {
  const folded = password.trim().toLowerCase();
  return KNOWN_DEMO_PASSWORDS.some((known) => known.toLowerCase() === folded);
}

/** What is wrong with a new password for this login, or null when it may be used. */
export function passwordProblem(login: string, password: string): PasswordProblem | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return 'too_short';
  if (length > MAX_PASSWORD_LENGTH) return 'too_long';
  if (isKnownDemoPassword(password)) return 'known_demo_password';
  if (login.length > 0 && password.toLowerCase().includes(login.toLowerCase())) return 'contains_login';
  return null;
}

export const PASSWORD_PROBLEM_TEXT: Readonly<Record<PasswordProblem, string>> = {
  too_short: `password: at least ${MIN_PASSWORD_LENGTH} characters (密码至少 ${MIN_PASSWORD_LENGTH} 个字符)`,
  too_long: `password: at most ${MAX_PASSWORD_LENGTH} characters (密码最多 ${MAX_PASSWORD_LENGTH} 个字符)`,
  contains_login: 'password: must not contain the login (密码不得包含登录名)',
  known_demo_password: 'password: a published demo password cannot be used (不得使用公开的示范密码)',
};

/** Failures a login or an address may have before each further attempt waits. */
export const FREE_LOGIN_FAILURES = 5;
/** A key's failures are forgotten this long after its last failure. */
export const FAILURE_MEMORY_MS = 3_600_000;
const FIRST_DELAY_MS = 30_000;
const MAX_DELAY_MS = 3_600_000;

/**
 * How long a key stays locked after its `failures`-th consecutive failure: nothing for the first
 * four, then 30 s after the fifth, doubling with each further failure up to one hour.
 */
export function lockoutMs(failures: number): number {
  if (failures < FREE_LOGIN_FAILURES) return 0;
  return Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - FREE_LOGIN_FAILURES));
}
