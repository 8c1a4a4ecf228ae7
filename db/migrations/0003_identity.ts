// People who log in, and their sessions.
//
// Users get an owner role, an e-mail (unique within their tenant, compared case-insensitively:
// people log in to one tenant with it) and an argon2id password hash (hashed by the gateway; the
// database never sees a password).
//
// A session is one login: of a person at a browser, or of an agent on a registered device. Its
// refresh token is not stored at all: it is `<tenant>.<session>.<generation>.<mac>`, signed by
// the gateway, and the row keeps only the generation that is current. Presenting the current
// generation rotates it (generation + 1); presenting an older one is a replay of a rotated token,
// so the whole session is revoked (reuse detection). Access tokens carry their session id, so a
// revoked session (logout, reuse, a revoked device, a deleted user: the cascade) refuses them too.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

export const identity: Migration = {
  name: '0003_identity',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE users DROP CONSTRAINT users_role_check;
      ALTER TABLE users ADD CONSTRAINT users_role_check
        CHECK (role IN ('owner', 'admin', 'supervisor', 'agent'));
      ALTER TABLE users ADD COLUMN email text CHECK (email = lower(email) AND length(email) <= 254);
      ALTER TABLE users ADD COLUMN password_hash text CHECK (password_hash LIKE '$argon2id$%');
      ALTER TABLE users ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
      CREATE UNIQUE INDEX users_email_key ON users (tenant_id, email) WHERE email IS NOT NULL;

      CREATE TABLE sessions (
        tenant_id text NOT NULL,
        id text NOT NULL,
        user_id text NOT NULL,
        -- The device an agent logged in from; NULL for a browser session.
        device_id text,
        generation integer NOT NULL DEFAULT 0 CHECK (generation >= 0),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason text CHECK (revoked_reason IN ('logout', 'reuse', 'device_revoked', 'replaced', 'admin')),
        PRIMARY KEY (tenant_id, id),
        CONSTRAINT sessions_user_fk FOREIGN KEY (tenant_id, user_id)
          REFERENCES users (tenant_id, id) ON DELETE CASCADE,
        CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
      );
      CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id) WHERE revoked_at IS NULL;
      CREATE INDEX sessions_device_idx ON sessions (tenant_id, device_id) WHERE revoked_at IS NULL;
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      DROP TABLE IF EXISTS sessions;
      DROP INDEX IF EXISTS users_email_key;
      ALTER TABLE users DROP COLUMN IF EXISTS updated_at;
      ALTER TABLE users DROP COLUMN IF EXISTS password_hash;
      ALTER TABLE users DROP COLUMN IF EXISTS email;
      DELETE FROM users WHERE role = 'owner';
      ALTER TABLE users DROP CONSTRAINT users_role_check;
      ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'supervisor', 'agent'));
    `);
  },
};
