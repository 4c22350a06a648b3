import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { Clock, FieldCipher, Passwords, TokenGenerator } from './ports.js';

/**
 * Everything a command or the server needs, wired once. The shape lives here, under the adapters,
 * so that they can take one; src/main/app-context.ts builds it (createAppContext) and hands the
 * builder to the CLI.
 */
export interface AppContext {
  readonly config: Config;
  readonly database: Database;
  readonly clock: Clock;
  readonly tokens: TokenGenerator;
  readonly passwords: Passwords;
  readonly cipher: FieldCipher;
  readonly version: string;
  close(): Promise<void>;
}

/** Opens the application for one command: the embedded database is migrated, a server only with `migrate`. */
export type OpenAppContext = (
  config: Config,
  options?: {
    readonly migrate?: boolean;
    /** false for schema commands: no key is loaded, the cipher refuses use. */
    readonly fieldKey?: boolean;
  },
) => Promise<AppContext>;
