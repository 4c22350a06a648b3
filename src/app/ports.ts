import type { LocalDate } from '../domain/local-date.js';

/** Time is an argument: use cases ask this port, tests pass a fixed one. */
export interface Clock {
  now(): Date;
  /** Today's date in the utility's time zone. */
  today(): LocalDate;
  /** The calendar date of an instant in the utility's time zone (the business day). */
  dateOf(at: Date): LocalDate;
}

/** Secrets and tokens come from here so that use cases stay deterministic under test. */
export interface TokenGenerator {
  newToken(): string;
}

export interface PasswordVerifier {
  verify(password: string, stored: string): Promise<boolean>;
}

/**
 * Encrypts personal data at rest (national ID, bank account numbers); the AES-256-GCM
 * implementation is src/adapters/crypto/field-cipher.ts.
 */
export interface FieldCipher {
  encrypt(plain: string): string;
  decrypt(sealed: string): string;
}
/** Hashes a new password with its own random salt (scrypt in adapters/crypto/password-hash.ts). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
}

export type Passwords = PasswordVerifier & PasswordHasher;
