// /api/v1/auth: log in, refresh, log out. The only admin-API routes that take no bearer
// credential (login and refresh carry their own proof in the body).
import { Router } from 'express';
import { z } from 'zod';
import { tenantIdSchema } from '../../engine/ids.js';
import type { LoginLimits } from '../auth/login-limits.js';
import { MAX_PASSWORD_LENGTH } from '../auth/passwords.js';
import type { LoggedIn, UserSessions } from '../auth/user-sessions.js';
import { GatewayError } from '../errors.js';

export const loginBodySchema = z.strictObject({
  tenantId: tenantIdSchema,
  email: z.string().min(3).max(254),
  password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
});

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

export function authRoutes(sessions: UserSessions, limits: LoginLimits): Router {
  const router = Router();

  router.post('/login', async (req, res) => {
    const body = loginBodySchema.parse(req.body);
    const account = `${body.tenantId}:${body.email.trim().toLowerCase()}`;
    await limits.begin(req.socket.remoteAddress ?? 'unknown', account);
    let answer: LoggedIn;
    try {
      answer = await sessions.login(body);
    } catch (err) {
      if (err instanceof GatewayError && err.code === 'UNAUTHENTICATED') await limits.failed(account);
      throw err;
    }
    await limits.succeeded(account);
    res.json(loginAnswer(answer));
  });

  router.post('/refresh', async (req, res) => {
    const body = refreshBodySchema.parse(req.body);
    res.json(loginAnswer(await sessions.refresh(body.refreshToken)));
  });

  router.post('/logout', async (req, res) => {
    const token = bearerOf(req.headers.authorization);
    if (!token)
      throw new GatewayError('UNAUTHENTICATED', 'logout needs Authorization: Bearer <access token>');
    await sessions.logout(await sessions.authenticate(token));
    res.status(204).end();
  });

  return router;
}
