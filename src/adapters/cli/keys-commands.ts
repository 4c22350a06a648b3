import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { AppError } from '../../app/errors.js';
import { rotateFieldKey } from '../../app/field-keys.js';
import { type Config, loadConfig } from '../../config/config.js';
import {
  createFieldCipher,
  defaultKeyFile,
  isCompromisedKey,
  loadFieldKey,
  readKeyFile,
  replaceDefaultKeyFile,
  writeNewKeyFile,
} from '../crypto/field-cipher.js';
import { type CliIo, commandKit } from './command-kit.js';
import { UsageError } from './cli-errors.js';
import { message } from './messages.js';

/** A key file that is missing, not a file or open to others is a usage error (exit 2), named. */
async function usage<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (
      error instanceof AppError &&
      (error.code === 'encryption_key_file_missing' ||
        error.code === 'encryption_key_file_insecure' ||
        error.code === 'encryption_key_invalid')
    )
      throw new UsageError(error.message);
    throw error;
  }
}

function batchSize(value: string) {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 100_000)
    throw new InvalidArgumentError('must be a whole number from 1 to 100000');
  return parsed;
}

/**
 * `gridcollect keys`: the field key (README, "Keys"). `rotate` re-encrypts every encrypted column
 * under a new key; the old key may be the public one once committed (it is refused everywhere else).
 */
export function registerKeysCommands(program: Command, cliIo: CliIo): void {
  const { io, lang, emitJson, globals } = commandKit(cliIo);
  const config: () => Config = io.config ?? loadConfig;
  const keys = program.command('keys').description('the encryption key of personal data and secrets');

  keys
    .command('rotate')
    .description(
      're-encrypt every encrypted value under a new key (batched, resumable: rerun to finish), then record its key check value; stop servers first',
    )
    .requiredOption(
      '--new-key-file <file>',
      'the new key: read when the file exists, otherwise generated and written there (mode 0600, outside any git checkout)',
    )
    .option(
      '--old-key-file <file>',
      'the current key (default: the configured key, GRIDCOLLECT_ENCRYPTION_KEY(_FILE) or the default key file)',
    )
    .option('--batch-size <n>', 'values per transaction', batchSize, 1000)
    .option('--json', 'print one JSON document')
    .action(async (options, command: Command) => {
      const global = globals(command);
      const settings = config();
      // The embedded database's default key file, when the old key is in it: it gets the new key
      // once the rotation is done (the old one kept beside it), so nothing needs configuring after.
      const embeddedDefault =
        settings.encryptionKeyHex || settings.encryptionKeyFile || settings.databaseUrl
          ? undefined
          : defaultKeyFile(settings.dataDir, settings.userConfigDir);
      const oldKeyFile = options.oldKeyFile ? path.resolve(options.oldKeyFile) : embeddedDefault;
      const newKeyFile = path.resolve(options.newKeyFile);
      const created = !existsSync(newKeyFile);
      const [oldKey, newKey] = await usage(async () => [
        options.oldKeyFile ? await readKeyFile(oldKeyFile!) : await loadFieldKey(settings, { create: false }),
        created ? await writeNewKeyFile(newKeyFile) : await readKeyFile(newKeyFile),
      ]);
      const replacesDefault =
        embeddedDefault !== undefined && oldKeyFile === embeddedDefault && newKeyFile !== embeddedDefault;
      if (isCompromisedKey(newKey)) throw new UsageError(`${newKeyFile}: this key is public; use a new one`);
      // Opened without the key check: the rotation brings its own two keys.
      const context = await io.openContext(settings, { fieldKey: false });
      const database = context.database;
      try {
        const summary = await rotateFieldKey(
          database.db,
          createFieldCipher(oldKey, { readLegacy: true }),
          createFieldCipher(newKey),
          {
            batchSize: options.batchSize,
            onBatch: global.json
              ? undefined
              : (progress) => io.err(`${progress.table}.${progress.column}: ${progress.rewritten}\n`),
          },
        );
        const rewritten = Object.values(summary.rewritten).reduce((sum, n) => sum + n, 0);
        const oldKeyBackup = replacesDefault
          ? await replaceDefaultKeyFile(embeddedDefault, oldKey, newKey)
          : undefined;
        if (global.json)
          emitJson({
            ...summary,
            newKeyFile,
            newKeyFileCreated: created,
            ...(oldKeyBackup ? { defaultKeyFile: embeddedDefault, oldKeyBackup } : {}),
          });
        else if (oldKeyBackup)
          io.out(
            `${message(
              lang(global),
              summary.alreadyDone ? 'keysAlreadyRotatedDefault' : 'keysRotatedDefault',
              {
                from: summary.fromKeyId,
                to: summary.toKeyId,
                count: rewritten,
                file: embeddedDefault!,
                backup: oldKeyBackup,
              },
            )}\n`,
          );
        else
          io.out(
            `${message(lang(global), summary.alreadyDone ? 'keysAlreadyRotated' : 'keysRotated', {
              from: summary.fromKeyId,
              to: summary.toKeyId,
              count: rewritten,
              file: newKeyFile,
            })}\n`,
          );
      } finally {
        await context.close();
      }
    });
}
