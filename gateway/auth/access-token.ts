// Access tokens: what a logged-in person (or a CRM's API key, resolved elsewhere) presents to the
// admin API and the supervisor namespace. Short-lived JWTs (15 minutes by default) signed HS256
// with a key derived from the server's secret (an HMAC of it with a fixed label, as lease ids do,
// so an access token can never be confused with a device token or a lease id). The algorithm,
// issuer and audience are pinned on verify, never taken from the token.
//
// A token carries its tenant, user, role and session. verify() checks the signature and expiry
// only; whoever must refuse a logged-out session also looks the session up (gateway/auth/
// user-sessions.ts does, for the HTTP API).
import { createHmac } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { AgentId, TenantId } from '../../engine/ids.js';
import { agentIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { sessionIdSchema, USER_ROLES } from '../../db/index.js';
import type { UserRole } from '../../db/index.js';
import { GatewayError } from '../errors.js';

export type Role = UserRole;
export const ROLES = USER_ROLES;

/** How long an access token lives unless issue() is told otherwise. */
export const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;

export interface AccessClaims {
  readonly tenantId: TenantId;
  readonly userId: AgentId;
  readonly role: Role;
  /** The login session it was issued for (revoked by logout, refresh reuse, deletion). */
  readonly sessionId: string;
  /** When the token stops being accepted (epoch ms): set by verify(), ignored by issue(). */
  readonly expiresAt?: number;
}

export interface AccessTokens {
  /** A signed token for these claims, valid `ttlSeconds` (default ACCESS_TOKEN_TTL_SECONDS). */
  issue(claims: AccessClaims, ttlSeconds?: number): Promise<string>;
  /** The claims of a valid, unexpired token; throws GatewayError UNAUTHENTICATED otherwise. */
  verify(token: string): Promise<AccessClaims>;
}

const ISSUER = 'dialhub';
const AUDIENCE = 'dialhub:access';

const payloadSchema = z.object({
  sub: agentIdSchema,
  tid: tenantIdSchema,
  role: z.enum(USER_ROLES),
  sid: sessionIdSchema,
  exp: z.number(),
});

/** The signing key of access tokens, derived from the server secret every gateway shares. */
export function accessTokenKey(serverSecret: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', serverSecret).update('dialhub access tokens v1').digest());
}

export function createAccessTokens(serverSecret: string): AccessTokens {
  const key = accessTokenKey(serverSecret);
  return {
    async issue(claims, ttlSeconds = ACCESS_TOKEN_TTL_SECONDS) {
      return new SignJWT({ tid: claims.tenantId, role: claims.role, sid: claims.sessionId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(claims.userId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttlSeconds}s`)
        .sign(key);
    },
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['exp', 'sub'],
        });
        const p = payloadSchema.parse(payload);
        return { tenantId: p.tid, userId: p.sub, role: p.role, sessionId: p.sid, expiresAt: p.exp * 1000 };
      } catch {
        throw new GatewayError('UNAUTHENTICATED', 'access token is invalid or expired');
      }
    },
  };
}
