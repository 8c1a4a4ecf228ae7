// Logging in, staying logged in, logging out. A login checks the password (argon2id), opens a
// session row and answers an access token (short-lived JWT) and a refresh token (rotating: each
// refresh answers a new pair and retires the old refresh token; presenting a retired one revokes
// the session, since only a copy of a stolen token can be presented after its rotation). Logout
// revokes the session; authenticate() refuses access tokens of a revoked or deleted session.
import { randomBytes } from 'node:crypto';
import type { TenantId } from '../../engine/ids.js';
import type { Database, User } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import { ACCESS_TOKEN_TTL_SECONDS, createAccessTokens } from './access-token.js';
import type { AccessClaims, AccessTokens } from './access-token.js';
import { verifyPassword } from './passwords.js';
import { createRefreshTokens } from './refresh-token.js';
import type { RefreshTokens } from './refresh-token.js';

/** A browser session lasts this long without a refresh. */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;

export interface TokenPair {
  readonly accessToken: string;
  /** Epoch ms. */
  readonly accessTokenExpiresAt: number;
  readonly refreshToken: string;
  readonly refreshTokenExpiresAt: number;
}

export interface LoggedIn extends TokenPair {
  readonly user: User;
  readonly sessionId: string;
}

export interface UserSessions {
  readonly accessTokens: AccessTokens;
  /** Fails UNAUTHENTICATED whatever is wrong (unknown tenant, e-mail or password): one answer. */
  login(input: { tenantId: TenantId; email: string; password: string }): Promise<LoggedIn>;
  /** Rotate: a new pair for a current refresh token. Fails UNAUTHENTICATED (and revokes on reuse). */
  refresh(refreshToken: string): Promise<LoggedIn>;
  /** Revoke the session of this access token's claims. */
  logout(claims: AccessClaims): Promise<void>;
  /** Verify an access token and that its session is live and its user still exists with that role. */
  authenticate(accessToken: string): Promise<AccessClaims>;
}

export interface UserSessionsOptions {
  readonly db: Database;
  /** The server secret every gateway shares (DEVICE_TOKEN_SECRET); keys are derived from it. */
  readonly serverSecret: string;
  readonly now?: () => number;
  readonly accessTtlSeconds?: number;
  readonly refreshTtlSeconds?: number;
}

const newSessionId = (): string => randomBytes(18).toString('base64url');

export function createUserSessions(options: UserSessionsOptions): UserSessions {
  const { db } = options;
  const now = options.now ?? Date.now;
  const accessTtl = options.accessTtlSeconds ?? ACCESS_TOKEN_TTL_SECONDS;
  const refreshTtl = options.refreshTtlSeconds ?? REFRESH_TOKEN_TTL_SECONDS;
  const accessTokens = createAccessTokens(options.serverSecret);
  const refreshTokens: RefreshTokens = createRefreshTokens(options.serverSecret);
  const refused = () => new GatewayError('UNAUTHENTICATED', 'e-mail or password is wrong');

  async function pair(
    user: User,
    sessionId: string,
    generation: number,
    expiresAt: number,
  ): Promise<TokenPair> {
    const accessToken = await accessTokens.issue(
      { tenantId: user.tenantId, userId: user.id, role: user.role, sessionId },
      accessTtl,
    );
    return {
      accessToken,
      accessTokenExpiresAt: now() + accessTtl * 1000,
      refreshToken: refreshTokens.sign({ tenantId: user.tenantId, sessionId, generation }),
      refreshTokenExpiresAt: expiresAt,
    };
  }

  return {
    accessTokens,

    async login({ tenantId, email, password }) {
      const user = await db.users.credentialsByEmail(tenantId, email);
      // verifyPassword spends the same time on an unknown user (see passwords.ts).
      if (!(await verifyPassword(user?.passwordHash, password)) || !user) throw refused();
      const { passwordHash: _hash, ...plain } = user;
      const expiresAt = now() + refreshTtl * 1000;
      const session = await db.sessions.create({ tenantId, id: newSessionId(), userId: user.id, expiresAt });
      return { user: plain, sessionId: session.id, ...(await pair(plain, session.id, 0, expiresAt)) };
    },

    async refresh(refreshToken) {
      const claims = refreshTokens.parse(refreshToken);
      if (!claims) throw new GatewayError('UNAUTHENTICATED', 'refresh token is invalid');
      const expiresAt = now() + refreshTtl * 1000;
      const result = await db.sessions.rotate(
        claims.tenantId,
        claims.sessionId,
        claims.generation,
        expiresAt,
      );
      if (result.kind === 'reused') {
        throw new GatewayError(
          'UNAUTHENTICATED',
          'refresh token was already used: the session is revoked, log in again',
        );
      }
      if (result.kind === 'invalid') {
        throw new GatewayError('UNAUTHENTICATED', 'refresh token is expired or revoked');
      }
      const user = await db.users.get(claims.tenantId, result.session.userId);
      if (!user) throw new GatewayError('UNAUTHENTICATED', 'the user no longer exists');
      const { session } = result;
      return {
        user,
        sessionId: session.id,
        ...(await pair(user, session.id, session.generation, expiresAt)),
      };
    },

    async logout(claims) {
      await db.sessions.revoke(claims.tenantId, claims.sessionId, 'logout');
    },

    async authenticate(accessToken) {
      const claims = await accessTokens.verify(accessToken);
      const session = await db.sessions.get(claims.tenantId, claims.sessionId);
      if (!session || session.revokedAt !== null || session.userId !== claims.userId) {
        throw new GatewayError('UNAUTHENTICATED', 'the session has ended; log in again');
      }
      // The role is read again: a demotion takes effect at once, not when the token expires.
      const user = await db.users.get(claims.tenantId, claims.userId);
      if (!user) throw new GatewayError('UNAUTHENTICATED', 'the user no longer exists');
      return { ...claims, role: user.role };
    },
  };
}
