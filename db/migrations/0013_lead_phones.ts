// Several numbers per lead, tried in order, each with its own zones.
//
// lead_phones lists the numbers of a lead that has more than one, in the order they are tried
// (position 1 is the number it was imported with), each with its candidate zones as the leads
// table keeps them (a zone key: names sorted, joined by ','). A lead with one number has no rows
// here: the common lead costs nothing more to import. The number being dialled stays in
// leads.phone (the queue's, the rebuild's and every scrub's number); it is one of these rows.
// Erasure and DNC find a number here by (tenant_id, phone); deleting a lead deletes its rows.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';

const E164 = `'^[+][1-9][0-9]{6,14}$'`;

/** Most numbers a lead may have (the JSON API and CSV import keep at most this many). */
export const MAX_LEAD_PHONES = 10;

export const leadPhones: Migration = {
  name: '0013_lead_phones',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      CREATE TABLE lead_phones (
        tenant_id text NOT NULL,
        lead_id bigint NOT NULL,
        position smallint NOT NULL CHECK (position BETWEEN 1 AND ${MAX_LEAD_PHONES}),
        phone text NOT NULL CHECK (phone ~ ${E164}),
        time_zone text CHECK (time_zone <> ''),
        PRIMARY KEY (tenant_id, lead_id, position),
        CONSTRAINT lead_phones_number_once UNIQUE (tenant_id, lead_id, phone),
        CONSTRAINT lead_phones_lead_fk FOREIGN KEY (tenant_id, lead_id)
          REFERENCES leads (tenant_id, id) ON DELETE CASCADE
      );
      CREATE INDEX lead_phones_phone_idx ON lead_phones (tenant_id, phone);
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`DROP TABLE IF EXISTS lead_phones`);
  },
};
