// Lead imports from CSV: one row per uploaded file (its counts move as the file streams in, so
// progress can be polled) and one row per problem found in it (row number, column, stable code),
// from which the rejects report is made. Rejects never hold the whole file: only the cell at fault.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const leadImports: Migration = {
  name: '0005_lead_imports',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE lead_imports (
        tenant_id text NOT NULL,
        id bigint GENERATED ALWAYS AS IDENTITY,
        campaign_id text NOT NULL,
        file_name text NOT NULL DEFAULT '' CHECK (length(file_name) <= 255),
        file_sha256 text,
        status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
        settings jsonb NOT NULL DEFAULT '{}',
        rows_read integer NOT NULL DEFAULT 0,
        queued integer NOT NULL DEFAULT 0,
        already_queued integer NOT NULL DEFAULT 0,
        duplicates integer NOT NULL DEFAULT 0,
        dnc integer NOT NULL DEFAULT 0,
        rejected integer NOT NULL DEFAULT 0,
        warnings integer NOT NULL DEFAULT 0,
        error text,
        created_by text NOT NULL DEFAULT '',
        created_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT lead_imports_campaign_fk FOREIGN KEY (tenant_id, campaign_id)
          REFERENCES campaigns (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX lead_imports_by_hash ON lead_imports (tenant_id, campaign_id, file_sha256);

      CREATE TABLE lead_import_rejects (
        tenant_id text NOT NULL,
        import_id bigint NOT NULL,
        row_number integer NOT NULL,
        seq integer NOT NULL,
        column_name text NOT NULL DEFAULT '',
        code text NOT NULL,
        severity text NOT NULL CHECK (severity IN ('error', 'warning')),
        detail text NOT NULL DEFAULT '',
        value text NOT NULL DEFAULT '',
        PRIMARY KEY (tenant_id, import_id, row_number, seq),
        CONSTRAINT lead_import_rejects_import_fk FOREIGN KEY (tenant_id, import_id)
          REFERENCES lead_imports (tenant_id, id) ON DELETE CASCADE
      );
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw('DROP TABLE lead_import_rejects; DROP TABLE lead_imports;');
  },
};
