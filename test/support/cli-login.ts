import path from 'node:path';
import { runCli } from '../../src/adapters/cli/program.js';
import { parseConfig } from '../../src/config/config.js';
import { DEMO_PASSWORD } from '../../src/domain/password-policy.js';
import { createAppContext } from '../../src/main/app-context.js';

/**
 * Runs the real CLI in-process with the given environment (and standard input, for
 * --password-stdin) and captures its streams and exit code.
 */
export async function cliIn(
  env: Record<string, string>,
  argv: readonly string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    out: (text) => {
      stdout += text;
    },
    err: (text) => {
      stderr += text;
    },
    config: () => parseConfig(env),
    readStdin: async () => stdin,
    openContext: createAppContext,
  });
  return { code, stdout, stderr };
}

/**
 * Logs a staff member in with the real `gridcollect login` and returns the environment of that
 * person's CLI: its own XDG_CONFIG_HOME under `dir`, where the session file is kept, so each
 * person in a test has their own session as each OS user does.
 */
export async function loggedInEnv(
  env: Record<string, string>,
  dir: string,
  login: string,
  password: string = DEMO_PASSWORD,
): Promise<Record<string, string>> {
  const personal = { ...env, XDG_CONFIG_HOME: path.join(dir, `config-${login}`) };
  const result = await cliIn(personal, ['login', login, '--password-stdin'], `${password}\n`);
  if (result.code !== 0)
    throw new Error(`gridcollect login ${login} failed (${result.code}): ${result.stderr}`);
  return personal;
}
