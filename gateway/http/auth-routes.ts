// /api/v1/auth: log in, refresh, log out. The only admin-API routes that take no bearer
// credential (login and refresh carry their own proof in the body).
import { Router } from 'express';
import { z } from 'zod';
import { tenantIdSchema } from '../../engine/ids.js';
import type { LoginLimits } from '../auth/login-limits.js';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.js';
import type { DeviceLoggedIn, LoggedIn, UserSessions } from '../auth/user-sessions.js';
import { GatewayError } from '../errors.js';

export const loginBodySchema = z.strictObject({
  tenantId: tenantIdSchema,
  email: z.string().min(3).max(254),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

export const deviceBodySchema = z.strictObject({
  /** A UUID the app generates once per install. */
  id: z.uuid(),
  platform: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a short lower-case platform name'),
  model: z.string().trim().max(120).default(''),
  appVersion: z.string().trim().max(40).default(''),
  label: z.string().trim().max(120).optional(),
});

export const deviceLoginBodySchema = loginBodySchema.extend({ device: deviceBodySchema });

export const refreshBodySchema = z.strictObject({ refreshToken: z.string().min(1).max(256) });

const BEARER = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i;

/** The bearer token of a request, if it has one. */
export const bearerOf = (authorization: string | undefined): string | undefined =>
  BEARER.exec(authorization ?? '')?.[1];

export const loginAnswer = (l: LoggedIn) => ({
  accessToken: l.accessToken,
  accessTokenExpiresAt: new Date(l.accessTokenExpiresAt).toISOString(),
  refreshToken: l.refreshToken,
  refreshTokenExpiresAt: new Date(l.refreshTokenExpiresAt).toISOString(),
  tokenType: 'Bearer',
  user: {
    tenantId: l.user.tenantId,
    id: l.user.id,
    name: l.user.name,
    role: l.user.role,
    email: l.user.email,
  },
});

export const deviceView = (d: DeviceLoggedIn['device']) => ({
  id: d.id,
  agentId: d.userId,
  label: d.label,
  platform: d.platform,
  model: d.model,
  appVersion: d.appVersion,
  registeredAt: new Date(d.registeredAt).toISOString(),
  revokedAt: d.revokedAt === null ? null : new Date(d.revokedAt).toISOString(),
  lastLoginAt: d.lastLoginAt === null ? null : new Date(d.lastLoginAt).toISOString(),
});

export const deviceLoginAnswer = (l: DeviceLoggedIn) => ({
  deviceToken: l.deviceToken,
  deviceTokenExpiresAt: new Date(l.deviceTokenExpiresAt).toISOString(),
  refreshToken: l.refreshToken,
  refreshTokenExpiresAt: new Date(l.refreshTokenExpiresAt).toISOString(),
  device: deviceView(l.device),
  user: { tenantId: l.user.tenantId, id: l.user.id, name: l.user.name, role: l.user.role },
});

const answerOf = (l: LoggedIn | DeviceLoggedIn) =>
  'deviceToken' in l ? deviceLoginAnswer(l) : loginAnswer(l);

export interface AuthHooks {
  /** A device's older sessions ended (it registered again): disconnect it everywhere. */
  readonly onDeviceReplaced?: (tenantId: string, deviceId: string) => Promise<void>;
  /** A session ended by logout: disconnect what it holds. */
  readonly onLogout?: (
    tenantId: string,
    userId: string,
    deviceId: string | null,
    sessionId: string,
  ) => Promise<void>;
}

export function authRoutes(sessions: UserSessions, limits: LoginLimits, hooks: AuthHooks = {}): Router {
  const router = Router();

  async function limited<T>(
    ip: string | undefined,
    body: { tenantId: string; email: string },
    login: () => Promise<T>,
  ): Promise<T> {
    const account = `${body.tenantId}:${body.email.trim().toLowerCase()}`;
    await limits.begin(ip ?? 'unknown', account);
    let answer: T;
    try {
      answer = await login();
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'UNAUTHENTICATED') await limits.failed(account);
      throw err;
    }
    await limits.succeeded(account);
    return answer;
  }

  router.post('/login', async (req, res) => {
    const body = loginBodySchema.parse(req.body);
    res.json(loginAnswer(await limited(req.ip, body, () => sessions.login(body))));
  });

  // An agent's app logs in from its device: the device is registered (within the plan's limit)
  // and gets a short-lived device token for the /agent handshake, and a refresh token.
  router.post('/device-login', async (req, res) => {
    const body = deviceLoginBodySchema.parse(req.body);
    const answer = await limited(req.ip, body, () => sessions.deviceLogin(body));
    if (answer.replaced > 0) await hooks.onDeviceReplaced?.(body.tenantId, answer.device.id);
    res.json(deviceLoginAnswer(answer));
  });

  router.post('/refresh', async (req, res) => {
    const body = refreshBodySchema.parse(req.body);
    res.json(answerOf(await sessions.refresh(body.refreshToken)));
  });

  // A person logs out with their access token; a device with its refresh token in the body.
  router.post('/logout', async (req, res) => {
    const token = bearerOf(req.headers.authorization);
    const body = token ? undefined : refreshBodySchema.safeParse(req.body).data;
    if (!token && !body) {
      throw new GatewayError(
        'UNAUTHENTICATED',
        'logout needs Authorization: Bearer <access token>, or { refreshToken } in the body',
      );
    }
    const ended = token
      ? await sessions.logout(await sessions.authenticate(token))
      : await sessions.logoutRefresh(body!.refreshToken);
    if (ended) await hooks.onLogout?.(ended.tenantId, ended.userId, ended.deviceId, ended.id);
    res.status(204).end();
  });

  return router;
}
