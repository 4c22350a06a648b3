import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';

// The embedded database's files (its catalogs, whose triggers guard the ledger, among them) are
// for the OS user who runs GridCollect: nothing readable or writable by group or others.
describe('embedded data directory permissions', () => {
  it('leaves no file or folder of the data directory open to group or others', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'gridcollect-perm-'));
    const dataDir = path.join(dir, 'data');
    const previous = process.umask(0o000);
    try {
      const database = await openDatabase({ kind: 'pglite', dataDir });
      await database.close();
    } finally {
      process.umask(previous);
    }
    const open: string[] = [];
    const mode = (await stat(dataDir)).mode & 0o777;
    if (mode & 0o077) open.push(`${dataDir} ${mode.toString(8)}`);
    for (const entry of await readdir(dataDir, { recursive: true, withFileTypes: true })) {
      const where = path.join(entry.parentPath, entry.name);
      const bits = (await stat(where)).mode & 0o777;
      if (bits & 0o077) open.push(`${where} ${bits.toString(8)}`);
    }
    expect(open).toEqual([]);
    await rm(dir, { recursive: true, force: true });
  });
});
