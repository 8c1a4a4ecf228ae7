// The keyed hash that stands for a phone number wherever the number itself must not be kept:
// HMAC-SHA256 with a random key per tenant (created on first use, kept in privacy_keys). The
// erasure list and the rights requests hold only this hash, so neither names anyone, yet a later
// import of the same number in the same tenant matches it. Keys never change, so each process
// caches them.
import { createHmac, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from '../errors.js';
import { parseInput, PHONE_E164, tenantOf } from '../validate.js';
import { z } from 'zod';

const phoneSchema = z.string().regex(PHONE_E164, 'must be an E.164 number');

export interface SubjectKeys {
  /** HMAC-SHA256 of the E.164 number under the tenant's key (32 bytes). Fails with TENANT_UNKNOWN. */
  hashOf(tenantId: string, phone: string): Promise<Buffer>;
  /** The same for many numbers, keyed by number. */
  hashesOf(tenantId: string, phones: readonly string[]): Promise<Map<string, Buffer>>;
}

export function createSubjectKeys(knex: Knex): SubjectKeys {
  const cache = new Map<string, Promise<Buffer>>();

  async function load(tenantId: string): Promise<Buffer> {
    try {
      // Two processes may create the key at once: the first insert wins and both read it back.
      await knex.raw(
        `INSERT INTO privacy_keys (tenant_id, hmac_key) VALUES (?, ?) ON CONFLICT (tenant_id) DO NOTHING`,
        [tenantId, randomBytes(32)],
      );
    } catch (err) {
      if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
      throw err;
    }
    const row = await knex('privacy_keys')
      .where({ tenant_id: tenantId })
      .first<{ hmac_key: Buffer }>('hmac_key');
    if (!row) throw new DbError('TENANT_UNKNOWN');
    return row.hmac_key;
  }

  function keyOf(tenantId: string): Promise<Buffer> {
    let key = cache.get(tenantId);
    if (!key) {
      key = load(tenantId);
      key.catch(() => cache.delete(tenantId));
      cache.set(tenantId, key);
    }
    return key;
  }

  const mac = (key: Buffer, phone: string) => createHmac('sha256', key).update(phone).digest();

  return {
    async hashOf(tenantId, phone) {
      const tenant = tenantOf(tenantId);
      const number = parseInput(phoneSchema, phone, 'phone');
      return mac(await keyOf(tenant), number);
    },
    async hashesOf(tenantId, phones) {
      const tenant = tenantOf(tenantId);
      const numbers = parseInput(z.array(phoneSchema).max(100_000), phones, 'phones');
      const out = new Map<string, Buffer>();
      if (numbers.length === 0) return out;
      const key = await keyOf(tenant);
      for (const n of numbers) out.set(n, mac(key, n));
      return out;
    },
  };
}
