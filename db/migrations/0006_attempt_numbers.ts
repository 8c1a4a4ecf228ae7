// Which number each call dialled. A lead may have several numbers, tried in order (0013): an
// attempt records the one it dialled (the lead's number when its outcome was committed: a number
// never changes under a live lease) and its place among the lead's numbers (1 for a lead of one
// number). Rows from before this migration have neither (null: not recorded); void rows (0002) are
// not calls and have neither. Erasure sets `phone` to null on the rows of an erased number that
// outlive it (a lead that dialled it, and is on another number now, keeps its history); the
// position stays, since it says nothing of the person.
import type { Knex } from 'knex';
import type { Migration } from './migration.js';
import { MAX_LEAD_PHONES } from './0013_lead_phones.js';

export const attemptNumbers: Migration = {
  name: '0006_attempt_numbers',

  async up(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE call_attempts
        ADD COLUMN phone text CHECK (phone ~ '^[+][1-9][0-9]{6,14}$'),
        ADD COLUMN phone_position smallint CHECK (phone_position BETWEEN 1 AND ${MAX_LEAD_PHONES});
    `);
  },

  async down(knex: Knex): Promise<void> {
    await knex.raw(`
      ALTER TABLE call_attempts DROP COLUMN IF EXISTS phone, DROP COLUMN IF EXISTS phone_position;
    `);
  },
};
