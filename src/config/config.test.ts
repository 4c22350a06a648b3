import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './config.js';

describe('configuration', () => {
  it('defaults to the embedded database in ./data, port 3000, Asia/Shanghai, zh-CN', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      port: 3000,
      timeZone: 'Asia/Shanghai',
      lang: 'zh-CN',
    });
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
    [{ DATABASE_URL: 'postgres://app@h/gc', DATABASE_OWNER_URL: 'mysql://x' }, /DATABASE_OWNER_URL/],
    [{ DATABASE_OWNER_URL: 'postgres://owner@h/gc' }, /DATABASE_OWNER_URL: set DATABASE_URL too/],
    [{ GRIDCOLLECT_PORT: '70000' }, /GRIDCOLLECT_PORT/],
    [{ GRIDCOLLECT_TIME_ZONE: 'Mars/Olympus' }, /GRIDCOLLECT_TIME_ZONE/],
    [{ GRIDCOLLECT_ENCRYPTION_KEY: 'short' }, /GRIDCOLLECT_ENCRYPTION_KEY/],
    [{ GRIDCOLLECT_LANG: 'fr' }, /GRIDCOLLECT_LANG/],
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    expect(() => parseConfig(env)).toThrow(message);
  });
});
