import { CompiledQuery, type Kysely } from 'kysely';
import { stringify } from 'csv-stringify/sync';

/** Marks a multi-statement SQL script (migrations): PGlite runs it with exec, pg by the simple protocol. */
export const SCRIPT_MARKER = '/* script */';
/** A COPY … FROM STDIN query carries its payload as its single parameter; each driver feeds it in. */
export const COPY_FROM_STDIN = /from stdin/i;

// biome-ignore lint/suspicious/noExplicitAny: any database schema
type Executor = Kysely<any>;

export async function executeScript(executor: Executor, script: string): Promise<void> {
  await executor.executeQuery(CompiledQuery.raw(`${SCRIPT_MARKER}\n${script}`));
}

/**
 * Bulk-loads CSV text (RFC 4180, no header) into a table with COPY on either backend. Measured
 * here, COPY is about 15× faster than batched INSERT on both PGlite and PostgreSQL.
 */
export async function copyCsv(
  executor: Executor,
  table: string,
  columns: readonly string[],
  csv: string,
): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table) || columns.some((column) => !/^[a-z_][a-z0-9_]*$/.test(column))) {
    throw new Error(`copyCsv: invalid identifier in ${table}(${columns.join(',')})`);
  }
  if (csv.length === 0) return;
  await executor.executeQuery(
    CompiledQuery.raw(`copy ${table} (${columns.join(', ')}) from stdin with (format csv)`, [csv]),
  );
}

/**
 * Renders rows as CSV for COPY: null → an empty unquoted field (NULL), an empty string → "" (an
 * empty string), booleans as t/f, everything else as text.
 */
export function toCopyCsv(rows: readonly (readonly unknown[])[]): string {
  return stringify(rows as unknown[][], {
    quoted_match: /^$/,
    cast: { boolean: (value) => (value ? 't' : 'f') },
  });
}
