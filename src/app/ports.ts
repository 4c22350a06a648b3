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

/** The row field an encrypted value belongs to: its associated data, so it decrypts nowhere else. */
export interface SealedField {
  readonly table: string;
  readonly column: string;
  /** The row's key, parts joined by "/" (see sealed-fields.ts). */
  readonly id: string;
}

/** Encryption of personal data and secrets at rest, bound to the row field (adapters/crypto/field-cipher). */
export interface FieldSealer {
  /** The public name of the key, carried in each ciphertext. */
  readonly keyId: string;
  encrypt(plain: string, field: SealedField): string;
  decrypt(sealed: string, field: SealedField): string;
}

export type Encrypt = FieldSealer['encrypt'];
export type Decrypt = FieldSealer['decrypt'];

/** The field cipher the application holds (AES-256-GCM in src/adapters/crypto/field-cipher.ts). */
export interface FieldCipher extends FieldSealer {}

/** Hashes a new password with its own random salt (scrypt in adapters/crypto/password-hash.ts). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
}

export type Passwords = PasswordVerifier & PasswordHasher;
