import path from 'node:path';
import { runCli } from '../../src/adapters/cli/program.js';
import { parseConfig } from '../../src/config/config.js';
import { DEMO_PASSWORD } from '../../src/domain/password-policy.js';
import { createAppContext } from '../../src/main/app-context.js';

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
  let stderr = '';
  const code = await runCli(['login', login, '--password-stdin'], {
    out: () => {},
    err: (text) => {
      stderr += text;
    },
    config: () => parseConfig(personal),
    readStdin: async () => `${password}\n`,
    openContext: createAppContext,
  });
  if (code !== 0) throw new Error(`gridcollect login ${login} failed (${code}): ${stderr}`);
  return personal;
}
