// Device tokens: until the identity issue lands, a device proves who it is with a JWT signed by
// the server's secret (HS256 only; the algorithm is pinned on verify, never taken from the
// token). The DeviceAuthenticator interface is the seam where real users and devices plug in.
import { jwtVerify, SignJWT } from 'jose';
import type { AgentId, DeviceId, TenantId } from '../../engine/ids.js';
import { agentIdSchema, deviceIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { GatewayError } from '../errors.js';

export interface DeviceIdentity {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
}

export interface DeviceAuthenticator {
  /** Resolve a presented token to the device it was issued for, or throw UNAUTHENTICATED. */
  verify(token: string): Promise<DeviceIdentity>;
}

const ISSUER = 'dialhub';
const AUDIENCE = 'dialhub:device';

export interface DeviceTokens extends DeviceAuthenticator {
  issue(identity: DeviceIdentity, ttlSeconds?: number): Promise<string>;
}

export function createDeviceTokens(secret: string): DeviceTokens {
  const key = new TextEncoder().encode(secret);
  return {
    async issue(identity, ttlSeconds = 365 * 86_400) {
      return new SignJWT({ tid: identity.tenantId, did: identity.deviceId })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(identity.agentId)
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
        });
        return {
          tenantId: tenantIdSchema.parse(payload.tid),
          agentId: agentIdSchema.parse(payload.sub),
          deviceId: deviceIdSchema.parse(payload.did),
        };
      } catch {
        throw new GatewayError('UNAUTHENTICATED', 'device token is invalid or expired');
      }
    },
  };
}
