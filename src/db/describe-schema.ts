import { type Kysely, sql } from 'kysely';
import type { DB } from './schema.js';

export interface ColumnInfo {
  readonly table: string;
  readonly column: string;
  readonly type: string;
  readonly nullable: boolean;
  readonly defaultValue: string | null;
  readonly identity: boolean;
}

export interface IndexInfo {
  readonly table: string;
  readonly name: string;
  readonly unique: boolean;
  readonly columns: readonly string[];
  readonly definition: string;
}

export interface SchemaInfo {
  readonly tables: readonly string[];
  readonly columns: readonly ColumnInfo[];
  readonly constraints: readonly { table: string; name: string; definition: string }[];
  readonly indexes: readonly IndexInfo[];
  readonly triggers: readonly { table: string; name: string; timing: string; event: string }[];
}

/** Reads the public schema from the catalogs, in a form that is the same on PostgreSQL 15 and PGlite (18). */
export async function describeSchema(db: Kysely<DB>): Promise<SchemaInfo> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`.execute(db);
  const columns = await sql<{
    table: string;
    column: string;
    type: string;
    nullable: string;
    default_value: string | null;
    identity: string;
  }>`
    select c.table_name as table, c.column_name as column,
           format_type(a.atttypid, a.atttypmod) as type,
           c.is_nullable as nullable, c.column_default as default_value, c.is_identity as identity
    from information_schema.columns c
    join pg_attribute a on a.attrelid = ('public.' || quote_ident(c.table_name))::regclass and a.attname = c.column_name
    where c.table_schema = 'public'
    order by c.table_name, c.ordinal_position`.execute(db);
  // PostgreSQL 18 also lists NOT NULL as constraints (contype 'n'); columns already say it.
  const constraints = await sql<{ table: string; name: string; definition: string }>`
    select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition
    from pg_constraint
    where connamespace = 'public'::regnamespace and contype <> 'n' and conrelid <> 0
    order by 1, 2`.execute(db);
  const indexes = await sql<{
    table: string;
    name: string;
    unique: boolean;
    columns: string;
    definition: string;
  }>`
    select t.relname as table, i.relname as name, ix.indisunique as unique,
           (select string_agg(a.attname, ',' order by k.ord)
              from unnest(ix.indkey) with ordinality as k(attnum, ord)
              join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum) as columns,
           pg_get_indexdef(i.oid) as definition
    from pg_index ix
    join pg_class i on i.oid = ix.indexrelid
    join pg_class t on t.oid = ix.indrelid
    join pg_namespace n on n.oid = t.relnamespace
    where n.nspname = 'public'
    order by 1, 2`.execute(db);
  const triggers = await sql<{ table: string; name: string; timing: string; event: string }>`
    select event_object_table as table, trigger_name as name, action_timing as timing,
           string_agg(event_manipulation, ',' order by event_manipulation) as event
    from information_schema.triggers where trigger_schema = 'public'
    group by 1, 2, 3 order by 1, 2`.execute(db);
  return {
    tables: tables.rows.map((row) => row.name),
    columns: columns.rows.map((row) => ({
      table: row.table,
      column: row.column,
      type: row.type,
      nullable: row.nullable === 'YES',
      defaultValue: row.default_value,
      identity: row.identity === 'YES',
    })),
    constraints: constraints.rows,
    indexes: indexes.rows.map((row) => ({
      table: row.table,
      name: row.name,
      unique: row.unique,
      columns: row.columns ? row.columns.split(',') : [],
      definition: row.definition,
    })),
    triggers: triggers.rows,
  };
}

/** A stable text rendering of the schema, committed as schema.snapshot.txt. */
export function renderSchema(schema: SchemaInfo): string {
  const lines: string[] = [];
  for (const table of schema.tables) {
    lines.push(`table ${table}`);
    for (const column of schema.columns.filter((c) => c.table === table)) {
      const flags = [column.nullable ? 'null' : 'not null'];
      if (column.identity) flags.push('identity');
      if (column.defaultValue !== null) flags.push(`default ${column.defaultValue}`);
      lines.push(`  column ${column.column} ${column.type} ${flags.join(' ')}`);
    }
    for (const constraint of schema.constraints.filter((c) => c.table === table)) {
      lines.push(`  constraint ${constraint.name} ${constraint.definition}`);
    }
    for (const index of schema.indexes.filter((i) => i.table === table)) {
      lines.push(`  index ${index.name} ${index.definition.replace(/ ON public\./, ' ON ')}`);
    }
    for (const trigger of schema.triggers.filter((t) => t.table === table)) {
      lines.push(`  trigger ${trigger.name} ${trigger.timing} ${trigger.event}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
