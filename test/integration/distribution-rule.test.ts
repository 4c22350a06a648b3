import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { type SchemaInfo, describeSchema } from '../../src/db/describe-schema.js';
import { DISTRIBUTION_COLUMN, LOG_TABLES, LOOKUP_TABLES, classifyTable } from '../../src/db/table-classes.js';
import { createTestDatabase, describeEachDatabase } from '../support/databases.js';

// The rule of docs/data-distribution.md, checked over the migrated schema: customer-scoped tables
// can be distributed by customer_id, and nothing in the schema stops that.
describeEachDatabase('distribution rule', (kind) => {
  let database: Database;
  let schema: SchemaInfo;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
    schema = await describeSchema(database.db);
  });
  afterAll(() => database.close());

  const customerTables = () => schema.tables.filter((table) => classifyTable(table) === 'customer');

  it('gives every customer-scoped table a NOT NULL customer_id', () => {
    expect(customerTables()).toContain('customer');
    expect(customerTables()).toContain('meter_read');
    for (const table of customerTables()) {
      const column = schema.columns.find((c) => c.table === table && c.column === DISTRIBUTION_COLUMN);
      expect(column, `${table}.${DISTRIBUTION_COLUMN}`).toBeDefined();
      expect(column?.nullable, `${table}.${DISTRIBUTION_COLUMN} nullable`).toBe(false);
    }
  });

  it('includes customer_id in every unique key of a customer-scoped table', () => {
    for (const index of schema.indexes.filter((i) => i.unique && classifyTable(i.table) === 'customer')) {
      expect(index.columns, `${index.table}.${index.name}`).toContain(DISTRIBUTION_COLUMN);
    }
  });

  it('joins customer-scoped tables to each other only on customer_id', () => {
    for (const constraint of schema.constraints) {
      const match = /^FOREIGN KEY \(([^)]+)\) REFERENCES (\w+)\(([^)]+)\)/.exec(constraint.definition);
      if (!match) continue;
      const [, columns, target] = match;
      const sourceClass = classifyTable(constraint.table);
      const targetClass = classifyTable(target!);
      if (sourceClass === 'customer' && targetClass === 'customer') {
        expect(columns!.split(', '), `${constraint.table}.${constraint.name}`).toContain(DISTRIBUTION_COLUMN);
      }
      // Replicated reference tables cannot point into distributed data.
      if (sourceClass === 'reference')
        expect(targetClass, `${constraint.table}.${constraint.name}`).toBe('reference');
    }
  });

  it('keys lookup and log tables by their own distribution column', () => {
    for (const [table, column] of [...Object.entries(LOOKUP_TABLES), ...Object.entries(LOG_TABLES)]) {
      const primary = schema.indexes.find((i) => i.table === table && i.name === `${table}_pkey`);
      expect(primary?.columns, table).toEqual([column]);
    }
  });
});
