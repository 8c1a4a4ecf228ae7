// Real Postgres for tests (127.0.0.1:5432, trust auth; never a mock). Each call makes a private
// schema, t_<random>, migrated unless asked not to, and a Database whose every connection has
// search_path set to it, so test files (and tests within them) run in parallel without seeing
// each other's rows. dispose() closes the pool and drops the schema.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDatabase } from '../../db/index.js';
import type { Database, OutcomeWriterOptions } from '../../db/index.js';

export const POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  readonly db: Database;
  readonly schema: string;
  /** A URL for raw `pg` clients that selects the schema through the startup options. */
  readonly url: string;
  dispose(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Run the migrations (default true). */
  readonly migrate?: boolean;
  readonly pool?: { readonly min?: number; readonly max?: number };
  readonly outcomeWriter?: OutcomeWriterOptions;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE SCHEMA ${schema}`);
  const db = createDatabase({
    url: POSTGRES_URL,
    searchPath: schema,
    ...(options.pool ? { pool: options.pool } : {}),
    ...(options.outcomeWriter ? { outcomeWriter: options.outcomeWriter } : {}),
  });
  let disposed: Promise<void> | undefined;
  const dispose = () =>
    (disposed ??= (async () => {
      try {
        await db.close();
      } finally {
        await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      }
    })());
  try {
    if (options.migrate ?? true) await db.migrate();
  } catch (err) {
    await dispose();
    throw err;
  }
  return {
    db,
    schema,
    url: `${POSTGRES_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    dispose,
  };
}
