import { createHash } from 'node:crypto';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { COPY_FROM_STDIN, SCRIPT_MARKER } from './raw-commands.js';
import { PG_OID, keepText, parseInt8 } from './type-parsers.js';

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_OID.int8) return parseInt8;
    if (oid === PG_OID.numeric || oid === PG_OID.date) return keepText;
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Statements with few parameters are the hot transactional ones (posting a payment, a query by
 * customer): they are prepared once per connection, named by a hash of their text, so the server
 * parses them once (the single-payment paths also ask for generic plans: see GENERIC_PLANS_SQL). Bulk statements (many rows, many parameters) vary in shape and are
 * not kept.
 */
const PREPARE_MAX_PARAMETERS = 48;
const statementNames = new Map<string, string>();

function statementName(sqlText: string): string {
  let name = statementNames.get(sqlText);
  if (!name) {
    name = `gc_${createHash('sha1').update(sqlText).digest('hex').slice(0, 24)}`;
    if (statementNames.size < 10_000) statementNames.set(sqlText, name);
  }
  return name;
}

/**
 * A pg pool whose clients understand the two raw commands of raw-commands.ts: a COPY … FROM STDIN
 * query streams its payload through pg-copy-streams; a marked script goes by the simple protocol.
 */
export function createPgPool(connectionString: string, max: number): PostgresPool & { pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString,
    max,
    types: types as pg.CustomTypesConfig,
  });
  // An idle client can be cut by the server (restart, admin termination). pg then emits 'error'
  // on the pool, which would crash the process if nobody listens; the pool has already dropped
  // that client and the next query opens a new one, so there is nothing else to do here.
  pool.on('error', () => {});
  return {
    pool,
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        // biome-ignore lint/suspicious/noExplicitAny: matches the pg client signature Kysely calls
        query: ((sqlText: any, parameters?: readonly unknown[]) => {
          if (typeof sqlText === 'string' && sqlText.startsWith(SCRIPT_MARKER)) return client.query(sqlText);
          if (typeof sqlText === 'string' && COPY_FROM_STDIN.test(sqlText) && parameters?.length === 1) {
            return copyIn(client, sqlText, parameters[0] as string | Uint8Array);
          }
          if (
            typeof sqlText === 'string' &&
            parameters &&
            parameters.length > 0 &&
            parameters.length <= PREPARE_MAX_PARAMETERS
          )
            return client.query({
              name: statementName(sqlText),
              text: sqlText,
              values: parameters as unknown[],
            });
          return client.query(sqlText, parameters as unknown[]);
        }) as unknown as PostgresPoolClient['query'],
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
}

async function copyIn(client: pg.PoolClient, sqlText: string, payload: string | Uint8Array) {
  const stream = client.query(copyFrom(sqlText));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    stream.end(typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload);
  });
  return { command: 'COPY', rowCount: stream.rowCount, rows: [] };
}
