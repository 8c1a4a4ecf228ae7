// API keys: `dhk_<id>.<secret>`, 256 random bits of secret. Created by a tenant's admin with a
// role no higher than their own (never owner), shown once; only a SHA-256 of the secret is kept.
// A presented key is found by its id, its hash compared in constant time, its last use recorded.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKey, ApiKeyRole, Database } from '../../db/index.js';
import type { TenantId } from '../../engine/ids.js';
import { GatewayError } from '../errors.js';

export const API_KEY_PREFIX = 'dhk_';

/** Resolves a presented API key to its tenant and role, or throws UNAUTHENTICATED. */
export interface ApiKeyResolver {
  readonly prefix: string;
  resolve(key: string): Promise<{ tenantId: TenantId; keyId: string; role: ApiKeyRole }>;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface ApiKeys extends ApiKeyResolver {
  create(input: { tenantId: TenantId; name: string; role: ApiKeyRole; createdBy: string }): Promise<{
    key: string;
    record: ApiKey;
  }>;
}

export function createApiKeys(db: Database): ApiKeys {
  const refused = () => new GatewayError('UNAUTHENTICATED', 'API key is invalid or revoked');
  return {
    prefix: API_KEY_PREFIX,
    async create({ tenantId, name, role, createdBy }) {
      const id = randomBytes(12).toString('base64url');
      const secret = randomBytes(32).toString('base64url');
      const record = await db.apiKeys.create({
        tenantId,
        id,
        name,
        role,
        secretHash: sha256(secret),
        createdBy,
      });
      return { key: `${API_KEY_PREFIX}${id}.${secret}`, record };
    },
    async resolve(key) {
      const body = key.slice(API_KEY_PREFIX.length);
      const dot = body.indexOf('.');
      if (dot < 0 || body.length > 100) throw refused();
      const stored = await db.apiKeys.find(body.slice(0, dot));
      const presented = sha256(body.slice(dot + 1));
      // Compare against something of the same length even when the id is unknown.
      const equal = timingSafeEqual(presented, stored?.secretHash ?? sha256(''));
      if (!stored || !equal || stored.revokedAt !== null) throw refused();
      await db.apiKeys.touch(stored.tenantId, stored.id);
      return { tenantId: stored.tenantId, keyId: stored.id, role: stored.role };
    },
  };
}
