// Every migration, oldest first. Append new ones; never reorder or edit one that has shipped.
import type { Knex } from 'knex';
import { core } from './0001_core.js';
import { leaseFence } from './0002_lease_fence.js';
import { identity } from './0003_identity.js';
import { devicesKeys } from './0004_devices_keys.js';
import { leadImports } from './0005_lead_imports.js';
import { wallboard } from './0010_wallboard.js';
import { wallboardLinks } from './0011_wallboard_links.js';
import { privacy } from './0015_privacy.js';
import { consent } from './0016_consent.js';
import { webhooks } from './0017_webhooks.js';
import { followups } from './0012_followups.js';
import { callbacksApi } from './0018_callbacks_api.js';
import { callingRules } from './0019_calling_rules.js';
import { rulePacks } from './0014_rule_packs.js';
import { leadPhones } from './0013_lead_phones.js';
import { attemptNumbers } from './0006_attempt_numbers.js';
import { migrationSource } from './migration.js';
import type { Migration } from './migration.js';

export const MIGRATIONS: readonly Migration[] = [
  core,
  leaseFence,
  identity,
  devicesKeys,
  leadImports,
  wallboard,
  wallboardLinks,
  privacy,
  consent,
  webhooks,
  // 0012 was the number set aside for follow-ups; it runs after 0017, whose triggers it replaces.
  followups,
  callbacksApi,
  callingRules,
  // 0014 was the number set aside for the rule-pack library; it runs after 0019, whose column it uses.
  rulePacks,
  // 0013 was the number set aside for several numbers per lead; it runs after 0019.
  leadPhones,
  // 0006 was the number set aside for the number each attempt dialled; it runs after 0013.
  attemptNumbers,
];

const config = (): Knex.MigratorConfig => ({ migrationSource: migrationSource(MIGRATIONS) });

/** Apply every pending migration. Returns the names applied (empty when already up to date). */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest(config())) as [number, string[]];
  return applied;
}

/** Undo every applied migration, newest first. Returns the names undone. */
export async function migrateDown(knex: Knex): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback(config(), true)) as [number, string[]];
  return undone;
}
