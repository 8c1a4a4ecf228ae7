// HTTP hygiene on /api/v1: a known path with a method its routes do not take is 405 with `Allow`
// read from the router (so a route added later is listed without anyone touching a list); a body
// that is not JSON on a JSON route is 415; a body over the limit is 413 naming the limit; all in
// the one error shape with stable codes.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WIRE_ERRORS } from '../../gateway/protocol/errors.js';
import { OPERATIONS } from '../../gateway/http/openapi.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';

describe('HTTP hygiene on the admin API', () => {
  let g: AdminGateway;
  let owner = '';
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [{ id: 'boss', role: 'owner' }]);
    const login = await api()
      .post('/api/v1/auth/login')
      .send({ tenantId: 'acme', email: 'boss@acme.test', password: TEST_PASSWORD })
      .expect(200);
    owner = `Bearer ${(login.body as { accessToken: string }).accessToken}`;
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('answers 405 with the Allow the router derives, for every documented path', async () => {
    const values: Record<string, string> = {
      tenantId: 'acme',
      userId: 'boss',
      agentId: 'a1',
      deviceId: 'd1',
      keyId: 'AAAAAAAAAAAAAAAA',
      linkId: 'AAAAAAAAAAAAAAAA',
      campaignId: 'spring',
      leadId: '1',
      importId: '1',
      callbackId: '1',
      phone: encodeURIComponent('+447911123001'),
    };
    // Every method documented for a concrete path: its own operations and those of any pattern
    // it also matches (GET /dnc/imports is GET /dnc/:phone).
    const pattern = (path: string) =>
      new RegExp(`^/api/v1${path.replace(/:([A-Za-z]+)/g, '[^/]+').replace(/\//g, '\\/')}$`);
    const byPath = new Map<string, Set<string>>();
    for (const op of OPERATIONS) {
      const path = `/api/v1${op.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => values[name]!)}`;
      if (byPath.has(path)) continue;
      byPath.set(
        path,
        new Set(OPERATIONS.filter((o) => pattern(o.path).test(path)).map((o) => o.method.toUpperCase())),
      );
    }
    for (const [path, documented] of byPath) {
      const unused = (['get', 'post', 'put', 'patch', 'delete'] as const).find(
        (m) => !documented.has(m.toUpperCase()),
      );
      if (!unused) continue;
      const res = await api()[unused](path).set('Authorization', owner);
      expect(res.status, `${unused} ${path}`).toBe(405);
      expect(res.body).toMatchObject({ error: { code: 'METHOD_NOT_ALLOWED', retryable: false } });
      const allow = (res.headers.allow as string).split(', ').filter((m) => m !== 'HEAD');
      expect(new Set(allow), path).toEqual(documented);
    }
    // An unknown path stays a 404.
    const unknown = await api().delete('/api/v1/nothing/here').set('Authorization', owner).expect(404);
    expect(unknown.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('answers 415 to a body that is not JSON on a JSON route, before reading it', async () => {
    const res = await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .set('Content-Type', 'text/plain')
      .send('+447911123001')
      .expect(415);
    expect(res.body).toEqual({
      error: {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: expect.stringMatching(/text\/plain.*application\/json/) as string,
        retryable: false,
      },
    });
    await api()
      .patch('/api/v1/tenants/acme/users/boss')
      .set('Authorization', owner)
      .set('Content-Type', 'application/x-www-form-urlencoded')
      .send('name=x')
      .expect(415);
    await api()
      .post('/api/v1/auth/login')
      .set('Content-Type', 'text/plain')
      .send('{"tenantId":"acme"}')
      .expect(415);
    expect(await g.db.dnc.has('acme', '+447911123001')).toBe(false);
    // JSON with a charset is JSON.
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ phones: ['+447911123001'] }))
      .expect(200);
  });

  it('answers 413 naming the limit', async () => {
    const res = await api()
      .post('/api/v1/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ tenantId: 'acme', email: 'x'.repeat(20_000), password: 'p' }))
      .expect(413);
    expect(res.body).toMatchObject({
      error: { code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/limit of 16384 bytes/) as string },
    });
    expect(WIRE_ERRORS.METHOD_NOT_ALLOWED.status).toBe(405);
  });
});
