// Reads every row of every table in a test's schema, as text, and reports the rows that hold a
// needle: how the erasure tests prove a number (or a name) is gone from Postgres, rather than
// checking the tables they expect to hold it. The Postgres twin of redis-scan.ts.
import pg from 'pg';
import type { TestDatabase } from './postgres.js';

/**
 * Every row of every table in the schema, as `<table>: <row as text>`, that holds one of the
 * needles. Throws when the schema lacks the lead tables (a scan of the wrong or an unmigrated
 * schema would find nothing, and so prove nothing).
 */
export async function rowsHolding(pgdb: TestDatabase, needles: readonly string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: pgdb.url });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
      [pgdb.schema],
    );
    const names = tables.map((t) => t.table_name);
    for (const expected of ['leads', 'lead_phones', 'call_attempts']) {
      if (!names.includes(expected)) throw new Error(`schema ${pgdb.schema} has no table ${expected}`);
    }
    const found: string[] = [];
    for (const name of names) {
      const { rows } = await client.query<{ row: string }>(`SELECT t::text AS row FROM "${name}" t`);
      for (const { row } of rows) if (needles.some((n) => row.includes(n))) found.push(`${name}: ${row}`);
    }
    return found;
  } finally {
    await client.end();
  }
}
