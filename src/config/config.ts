import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The one parsed, frozen configuration. Nothing else in the code reads process.env: every module
 * receives the values it needs from here.
 */
const schema = z.object({
  GRIDCOLLECT_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  DATABASE_OWNER_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_OWNER_URL must start with postgres:// or postgresql://')
    .optional(),
  GRIDCOLLECT_DB_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  GRIDCOLLECT_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  GRIDCOLLECT_HOST: z.string().default('127.0.0.1'),
  GRIDCOLLECT_TIME_ZONE: z.string().default('Asia/Shanghai'),
  GRIDCOLLECT_LANG: z.enum(['zh-CN', 'en']).default('zh-CN'),
  GRIDCOLLECT_ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'GRIDCOLLECT_ENCRYPTION_KEY must be 64 hex characters (32 bytes)')
    .optional(),
  GRIDCOLLECT_ENCRYPTION_KEY_FILE: z.string().optional(),
  GRIDCOLLECT_SESSION_HOURS: z.coerce.number().int().min(1).max(720).default(12),
  GRIDCOLLECT_DEMO_CUSTOMERS: z.coerce.number().int().min(100).max(5_000_000).default(5000),
  GRIDCOLLECT_DEMO_MONTHS: z.coerce.number().int().min(1).max(120).default(24),
  GRIDCOLLECT_DEMO_SEED: z.coerce.number().int().default(1),
  GRIDCOLLECT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('warn'),
  GRIDCOLLECT_PDF_FONT: z.string().optional(),
  TEST_DATABASE_URL: z.string().optional(),
  XDG_CONFIG_HOME: z.string().optional(),
  HOME: z.string().optional(),
});

export interface Config {
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  /**
   * The owner role that runs migrations on PostgreSQL (DATABASE_URL is then the runtime role, which
   * gets exactly the privileges the application needs); unset, DATABASE_URL's role does both.
   */
  readonly databaseOwnerUrl: string | undefined;
  readonly dbPoolSize: number;
  readonly port: number;
  readonly host: string;
  readonly timeZone: string;
  readonly lang: 'zh-CN' | 'en';
  /** 32-byte key (hex) for personal data and secrets at rest. */
  readonly encryptionKeyHex: string | undefined;
  /** A 0600 file holding the key in hex; used when encryptionKeyHex is unset. */
  readonly encryptionKeyFile: string | undefined;
  /** The OS user's configuration directory ($XDG_CONFIG_HOME, else ~/.config): default key files of embedded databases inside a git checkout. */
  readonly userConfigDir: string;
  readonly sessionHours: number;
  readonly demo: { readonly customers: number; readonly months: number; readonly seed: number };
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** A TrueType/OpenType font with Chinese glyphs for PDF bills; found among system fonts when unset. */
  readonly pdfFontPath: string | undefined;
  /** Where the CLI keeps its login sessions, per OS user: $XDG_CONFIG_HOME/gridcollect (~/.config/gridcollect). */
  readonly cliConfigDir: string;
  /** Only the test suite reads this: a PostgreSQL server to run the database tests against too. */
  readonly testDatabaseUrl: string | undefined;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // An empty variable counts as unset (DATABASE_URL= in a shell means "no server").
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const value = result.data;
  // The OS user's configuration directory: key files (when the data directory is in a checkout)
  // and the CLI's login sessions live under it.
  const userConfigDir = path.resolve(
    value.XDG_CONFIG_HOME ?? path.join(value.HOME ?? os.homedir(), '.config'),
  );
  if (!isValidTimeZone(value.GRIDCOLLECT_TIME_ZONE)) {
    throw new ConfigError(
      `invalid configuration: GRIDCOLLECT_TIME_ZONE: unknown zone ${value.GRIDCOLLECT_TIME_ZONE}`,
    );
  }
  if (value.DATABASE_OWNER_URL && !value.DATABASE_URL) {
    throw new ConfigError(
      'invalid configuration: DATABASE_OWNER_URL: set DATABASE_URL too (the runtime role the application connects as)',
    );
  }
  return Object.freeze({
    dataDir: path.resolve(value.GRIDCOLLECT_DATA_DIR),
    databaseUrl: value.DATABASE_URL,
    databaseOwnerUrl: value.DATABASE_OWNER_URL,
    dbPoolSize: value.GRIDCOLLECT_DB_POOL_SIZE,
    port: value.GRIDCOLLECT_PORT,
    host: value.GRIDCOLLECT_HOST,
    timeZone: value.GRIDCOLLECT_TIME_ZONE,
    lang: value.GRIDCOLLECT_LANG,
    encryptionKeyHex: value.GRIDCOLLECT_ENCRYPTION_KEY,
    encryptionKeyFile: value.GRIDCOLLECT_ENCRYPTION_KEY_FILE
      ? path.resolve(value.GRIDCOLLECT_ENCRYPTION_KEY_FILE)
      : undefined,
    userConfigDir,
    sessionHours: value.GRIDCOLLECT_SESSION_HOURS,
    demo: Object.freeze({
      customers: value.GRIDCOLLECT_DEMO_CUSTOMERS,
      months: value.GRIDCOLLECT_DEMO_MONTHS,
      seed: value.GRIDCOLLECT_DEMO_SEED,
    }),
    logLevel: value.GRIDCOLLECT_LOG_LEVEL,
    pdfFontPath: value.GRIDCOLLECT_PDF_FONT,
    testDatabaseUrl: value.TEST_DATABASE_URL,
    cliConfigDir: path.join(userConfigDir, 'gridcollect'),
  });
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

let cached: Config | undefined;

/** The process configuration, parsed once from the environment. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
