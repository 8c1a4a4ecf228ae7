// Device tokens: what a registered device presents in the /agent handshake. Short-lived JWTs
// signed HS256 by the server's secret (the algorithm is pinned on verify, never taken from the
// token). A device that logged in (POST /api/v1/auth/device-login) gets a token bound to its
// session and a refresh token; verify() then refuses the token as soon as the session ends (the
// device was revoked or registered again, the agent deleted or logged out), not when it expires.
import { jwtVerify, SignJWT } from 'jose';
import type { AgentId, DeviceId, TenantId } from '../../engine/ids.js';
import { agentIdSchema, deviceIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { sessionIdSchema } from '../../db/index.js';
import { GatewayError } from '../errors.js';

export interface DeviceIdentity {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  /** The login session the token belongs to (absent on tokens issued without a login). */
  readonly sessionId?: string;
  /** Epoch ms when the token expires (set by verify). */
  readonly expiresAt?: number;
}

export interface DeviceAuthenticator {
  /** Resolve a presented token to the device it was issued for, or throw UNAUTHENTICATED. */
  verify(token: string): Promise<DeviceIdentity>;
}

const ISSUER = 'dialhub';
const AUDIENCE = 'dialhub:device';

/** A device token bound to a session lives this long; the device refreshes it. */
export const DEVICE_TOKEN_TTL_SECONDS = 15 * 60;
/** A token issued without a session (the demo's printed tokens) lives a day. */
export const UNBOUND_DEVICE_TOKEN_TTL_SECONDS = 86_400;

export interface DeviceTokens extends DeviceAuthenticator {
  issue(identity: DeviceIdentity, ttlSeconds?: number): Promise<string>;
}

export interface DeviceTokenOptions {
  /** True while the session is live; tokens of a session it answers false for are refused. */
  readonly isSessionLive?: (tenantId: TenantId, sessionId: string) => Promise<boolean>;
}

export function createDeviceTokens(secret: string, options: DeviceTokenOptions = {}): DeviceTokens {
  const key = new TextEncoder().encode(secret);
  return {
    async issue(identity, ttlSeconds) {
      const ttl =
        ttlSeconds ??
        (identity.sessionId === undefined ? UNBOUND_DEVICE_TOKEN_TTL_SECONDS : DEVICE_TOKEN_TTL_SECONDS);
      return new SignJWT({
        tid: identity.tenantId,
        did: identity.deviceId,
        ...(identity.sessionId === undefined ? {} : { sid: identity.sessionId }),
      })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(identity.agentId)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(`${ttl}s`)
        .sign(key);
    },
    async verify(token) {
      let identity: DeviceIdentity;
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['exp'],
        });
        identity = {
          tenantId: tenantIdSchema.parse(payload.tid),
          agentId: agentIdSchema.parse(payload.sub),
          deviceId: deviceIdSchema.parse(payload.did),
          expiresAt: payload.exp! * 1000,
          ...(payload.sid === undefined ? {} : { sessionId: sessionIdSchema.parse(payload.sid) }),
        };
      } catch {
        throw new GatewayError('UNAUTHENTICATED', 'device token is invalid or expired');
      }
      if (
        identity.sessionId !== undefined &&
        options.isSessionLive &&
        !(await options.isSessionLive(identity.tenantId, identity.sessionId))
      ) {
        throw new GatewayError('UNAUTHENTICATED', "the device's session has ended; log in again");
      }
      return identity;
    },
  };
}

/** The session check of device tokens, over the sessions table. */
export const sessionLiveness =
  (sessions: {
    get(tenantId: string, id: string): Promise<{ revokedAt: number | null; expiresAt: number } | undefined>;
  }) =>
  async (tenantId: TenantId, sessionId: string): Promise<boolean> => {
    const s = await sessions.get(tenantId, sessionId);
    return s !== undefined && s.revokedAt === null && s.expiresAt > Date.now();
  };
