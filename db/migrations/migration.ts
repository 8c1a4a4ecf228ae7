// The shape of one migration, and the source that hands knex our migrations in order. Migrations
// are TypeScript modules listed here rather than files knex discovers on disk, so they work the
// same from source, from a bundle and under vitest, with no file loader or glob involved.
import type { Knex } from 'knex';

export interface Migration {
  /** Recorded in knex_migrations; never rename one that has shipped. */
  readonly name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export function migrationSource(migrations: readonly Migration[]): Knex.MigrationSource<Migration> {
  return {
    getMigrations: () => Promise.resolve([...migrations]),
    getMigrationName: (migration) => migration.name,
    getMigration: (migration) => Promise.resolve(migration),
  };
}
