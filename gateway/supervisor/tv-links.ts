// Wallboard TV links: `dhtv_<id>.<secret>`, 256 random bits of secret, for a screen on the wall
// that shows the floor without anyone logged in. Read-only (the /supervisor namespace refuses
// every action to it), scoped to its tenant and optionally one campaign, shown once when created;
// only a SHA-256 of the secret is kept. Revoking one cuts its live sockets on every gateway (the
// identity disconnect channel) and refuses it from then on.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { createWallboardLinkRepository } from '../../db/index.js';
import type { WallboardLink, WallboardLinkRepository } from '../../db/index.js';
import type { TenantId } from '../../engine/ids.js';
import { GatewayError } from '../errors.js';

export const TV_LINK_PREFIX = 'dhtv_';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface ResolvedLink {
  readonly tenantId: TenantId;
  readonly linkId: string;
  readonly campaignId: string | null;
}

export interface TvLinks {
  readonly repository: WallboardLinkRepository;
  create(input: {
    tenantId: TenantId;
    name: string;
    campaignId: string | null;
    createdBy: string;
  }): Promise<{ token: string; link: WallboardLink }>;
  /** The link a presented token names, or UNAUTHENTICATED (unknown, wrong secret, revoked). */
  resolve(token: string): Promise<ResolvedLink>;
}

export const isTvLinkToken = (token: string): boolean => token.startsWith(TV_LINK_PREFIX);

export function createTvLinks(knex: Knex): TvLinks {
  const repository = createWallboardLinkRepository(knex);
  const refused = () => new GatewayError('UNAUTHENTICATED', 'the wallboard link is invalid or revoked');
  return {
    repository,
    async create({ tenantId, name, campaignId, createdBy }) {
      const id = randomBytes(12).toString('base64url');
      const secret = randomBytes(32).toString('base64url');
      const link = await repository.create({
        tenantId,
        id,
        name,
        campaignId,
        secretHash: sha256(secret),
        createdBy,
      });
      return { token: `${TV_LINK_PREFIX}${id}.${secret}`, link };
    },
    async resolve(token) {
      const body = token.slice(TV_LINK_PREFIX.length);
      const dot = body.indexOf('.');
      if (!isTvLinkToken(token) || dot < 0 || body.length > 100) throw refused();
      const stored = await repository.find(body.slice(0, dot));
      const presented = sha256(body.slice(dot + 1));
      // Compare against something of the same length even when the id is unknown.
      const equal = timingSafeEqual(presented, stored?.secretHash ?? sha256(''));
      if (!stored || !equal || stored.revokedAt !== null) throw refused();
      await repository.touch(stored.tenantId, stored.id);
      return { tenantId: stored.tenantId, linkId: stored.id, campaignId: stored.campaignId };
    },
  };
}
