// Logging in: short-lived access tokens (HS256 pinned, tenant, user, role and session inside),
// argon2id password hashes, rotating refresh tokens with reuse detection, logout, and the demo
// owner and supervisor a newcomer logs in with.
import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTenantId, asAgentId } from '../../engine/ids.js';
import { accessTokenKey, createAccessTokens } from '../../gateway/auth/access-token.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { hashPassword, verifyPassword } from '../../gateway/auth/passwords.js';
import { demoPasswordFrom, seedDemo } from '../../gateway/demo-seed.js';
import { GatewayError } from '../../gateway/errors.js';
import { silentLogger } from '../../gateway/logger.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';
import { TEST_SECRET } from '../support/gateway.js';

const claims = {
  tenantId: asTenantId('acme'),
  userId: asAgentId('u1'),
  role: 'supervisor' as const,
  sessionId: 'session-0123456789abcdef',
};

async function unauthenticated(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  expect((err as GatewayError).code).toBe('UNAUTHENTICATED');
}

describe('access tokens', () => {
  const tokens = createAccessTokens(TEST_SECRET);

  it('carry tenant, user, role and session, and verify to the same claims and their expiry', async () => {
    const before = Date.now();
    const { expiresAt, ...rest } = await tokens.verify(await tokens.issue(claims));
    expect(rest).toEqual(claims);
    // A short-lived token: the expiry a supervisor socket is cut at lies minutes ahead.
    expect(expiresAt).toBeGreaterThan(before);
    expect(expiresAt).toBeLessThanOrEqual(before + 60 * 60_000);
  });

  it('are refused when expired, tampered, signed with another key or another algorithm', async () => {
    await unauthenticated(tokens.verify(await tokens.issue(claims, -10)));
    await unauthenticated(tokens.verify(`${await tokens.issue(claims)}x`));
    await unauthenticated(
      createAccessTokens('another-secret-another-secret-another').verify(await tokens.issue(claims)),
    );
    // Same key, HS512: the algorithm is pinned, never taken from the header.
    const hs512 = await new SignJWT({ tid: 'acme', role: 'owner', sid: claims.sessionId })
      .setProtectedHeader({ alg: 'HS512' })
      .setSubject('u1')
      .setIssuer('dialhub')
      .setAudience('dialhub:access')
      .setExpirationTime('5m')
      .sign(accessTokenKey(TEST_SECRET));
    await unauthenticated(tokens.verify(hs512));
    // An unsigned token.
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({
        sub: 'u1',
        tid: 'acme',
        role: 'owner',
        sid: claims.sessionId,
        aud: 'dialhub:access',
        iss: 'dialhub',
        exp: 9e9,
      }),
    ).toString('base64url')}.`;
    await unauthenticated(tokens.verify(none));
  });

  it('are not device tokens, and device tokens are not access tokens', async () => {
    const device = await createDeviceTokens(TEST_SECRET).issue({
      tenantId: asTenantId('acme'),
      agentId: asAgentId('u1'),
      deviceId: 'd1' as never,
    });
    await unauthenticated(tokens.verify(device));
    await unauthenticated(createDeviceTokens(TEST_SECRET).verify(await tokens.issue(claims)));
  });

  it('use a key derived from the server secret, not the secret itself', () => {
    expect(Buffer.from(accessTokenKey(TEST_SECRET)).equals(Buffer.from(TEST_SECRET))).toBe(false);
    expect(Buffer.from(accessTokenKey(TEST_SECRET))).toEqual(
      createHmac('sha256', TEST_SECRET).update('dialhub access tokens v1').digest(),
    );
  });
});

describe('passwords', () => {
  it('are hashed with argon2id, m = 19 MiB, t = 2, and verified', async () => {
    const hash = await hashPassword(TEST_PASSWORD);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(hash, TEST_PASSWORD)).toBe(true);
    expect(await verifyPassword(hash, 'wrong')).toBe(false);
    expect(await verifyPassword(null, TEST_PASSWORD)).toBe(false);
  });
});

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: {
    accessToken: string;
    accessTokenExpiresAt: string;
    refreshToken: string;
    user: { role: string };
    error: { code: string; message: string; issues?: { path: string }[] };
  };
}

describe('POST /api/v1/auth', () => {
  let g: AdminGateway;
  const answer = async (test: request.Test): Promise<Answer> => {
    const res = await test;
    return {
      status: res.status,
      headers: res.headers,
      body: res.body as Answer['body'],
    };
  };
  const post = (path: string, body: object) => answer(request(g.url).post(`/api/v1/auth/${path}`).send(body));
  const login = (tenantId: string, email: string, password = TEST_PASSWORD) =>
    post('login', { tenantId, email, password });
  const refresh = (refreshToken: string) => post('refresh', { refreshToken });
  const logout = (accessToken: string) =>
    answer(request(g.url).post('/api/v1/auth/logout').set('Authorization', `Bearer ${accessToken}`));

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    await g.seedTenant('other', [{ id: 'boss', role: 'owner' }]);
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('login answers an access token for the tenant, user and role, and a refresh token', async () => {
    const res = await login('acme', 'SUE@acme.test');
    expect(res.status).toBe(200);
    expect(res.body.user).toEqual({
      tenantId: 'acme',
      id: 'sue',
      name: 'User sue',
      role: 'supervisor',
      email: 'sue@acme.test',
    });
    expect(res.headers['cache-control']).toBe('no-store');
    const c = await createAccessTokens(TEST_SECRET).verify(res.body.accessToken);
    expect(c).toMatchObject({ tenantId: 'acme', userId: 'sue', role: 'supervisor' });
    const ttl = Date.parse(res.body.accessTokenExpiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    expect(res.body.refreshToken).toMatch(/^acme\./);
    // The session row keeps no token.
    const { rows } = await g.db.knex.raw<{ rows: Record<string, unknown>[] }>(
      'SELECT * FROM sessions WHERE id = ?',
      [c.sessionId],
    );
    expect(JSON.stringify(rows)).not.toContain(res.body.refreshToken.split('.')[3]);
  });

  it('a wrong password, an unknown e-mail and another tenant all get the same 401', async () => {
    const answers = await Promise.all([
      login('acme', 'sue@acme.test', 'not the password'),
      login('acme', 'nobody@acme.test'),
      login('other', 'sue@acme.test'),
      login('ghost', 'sue@acme.test'),
    ]);
    for (const res of answers) {
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: 'e-mail or password is wrong',
      });
    }
  });

  it('a malformed body is PAYLOAD_INVALID naming the field', async () => {
    const res = await post('login', { tenantId: 'acme', email: 'sue@acme.test' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('PAYLOAD_INVALID');
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path: 'password' })]);
  });

  it('refresh rotates; a rotated refresh token presented again revokes the session', async () => {
    const first = (await login('acme', 'boss@acme.test')).body;
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect(second.body.user.role).toBe('owner');
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);

    // The first token again: someone kept a copy. The whole session ends.
    const replay = await refresh(first.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/already used/);
    const after = await refresh(third.body.refreshToken);
    expect(after.status).toBe(401);
    expect((await logout(third.body.accessToken)).status).toBe(401);
  });

  it('a forged or other-tenant refresh token is refused', async () => {
    const { refreshToken } = (await login('acme', 'boss@acme.test')).body;
    const [, sid, gen, mac] = refreshToken.split('.');
    for (const forged of [`other.${sid}.${gen}.${mac}`, `acme.${sid}.${Number(gen) + 1}.${mac}`, 'garbage']) {
      const res = await refresh(forged);
      expect(res.status).toBe(401);
    }
    // The real one still works: a forgery revoked nothing.
    expect((await refresh(refreshToken)).status).toBe(200);
  });

  it('logout ends the session: its access token and refresh token are refused from then on', async () => {
    const { accessToken, refreshToken } = (await login('acme', 'sue@acme.test')).body;
    const out = await logout(accessToken);
    expect(out.status).toBe(204);
    expect((await logout(accessToken)).status).toBe(401);
    expect((await refresh(refreshToken)).status).toBe(401);
  });

  it('the demo seed makes an owner and a supervisor who log in with the demo password', async () => {
    const demoPassword = demoPasswordFrom(TEST_SECRET);
    const seeded = await seedDemo({
      db: g.db,
      tokens: createDeviceTokens(TEST_SECRET),
      logger: silentLogger,
      demoPassword,
    });
    expect(seeded?.logins).toEqual([
      { email: 'owner@demo.example', role: 'owner', password: demoPassword },
      { email: 'supervisor@demo.example', role: 'supervisor', password: demoPassword },
    ]);
    expect(demoPassword).toHaveLength(20);
    const res = await login('demo', 'owner@demo.example', demoPassword);
    expect(res.status).toBe(200);
    expect(res.body.user.role).toBe('owner');
    expect((await login('demo', 'supervisor@demo.example', demoPassword)).body.user.role).toBe('supervisor');

    // A changed password is not printed again.
    await g.db.users.update('demo', 'owner', { passwordHash: await hashPassword('a new password of mine') });
    const again = await seedDemo({
      db: g.db,
      tokens: createDeviceTokens(TEST_SECRET),
      logger: silentLogger,
      demoPassword,
    });
    expect(again?.logins.map((l) => l.email)).toEqual(['supervisor@demo.example']);
  });
});

describe('login rate limits', () => {
  let one: AdminGateway;
  let two: AdminGateway;

  beforeAll(async () => {
    const limits = { perIpPerMinute: 8, failuresPerAccount: 3 };
    one = await AdminGateway.start({ loginLimits: limits, redis: true });
    two = await AdminGateway.start({
      loginLimits: limits,
      redis: true,
      shared: { store: one.store, pg: one.pg },
    });
    await one.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
  });
  afterAll(async () => {
    await two?.stop();
    await one?.stop();
  });

  const login = (g: AdminGateway, email: string, password: string) =>
    request(g.url).post('/api/v1/auth/login').send({ tenantId: 'acme', email, password });

  it('an account is locked after its failures, on every gateway, even for the right password', async () => {
    expect((await login(one, 'sue@acme.test', 'wrong 1')).status).toBe(401);
    expect((await login(two, 'sue@acme.test', 'wrong 2')).status).toBe(401);
    expect((await login(one, 'SUE@acme.test', 'wrong 3')).status).toBe(401);
    const locked = await login(two, 'sue@acme.test', TEST_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ error: { code: 'RATE_LIMITED', retryable: true } });
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // Another account is not affected.
    expect((await login(one, 'boss@acme.test', TEST_PASSWORD)).status).toBe(200);
  });

  it('one address is limited across accounts, on every gateway', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await login(i % 2 ? one : two, `nobody${i}@acme.test`, 'guess')).status);
    }
    // 8 per minute from 127.0.0.1 in all (the first test used 5 of them).
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3);
    expect(statuses.at(-1)).toBe(429);
  });
});
