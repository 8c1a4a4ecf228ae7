// Logs never hold raw phone numbers, names, passwords or tokens: a realistic admin flow (log in,
// campaign, import, read a lead, check the do-not-call list by number, export, rectify, erase) is
// run with a real pino logger at debug level, and every line it wrote is scanned.
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { createLogger } from '../../gateway/logger.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';

const NUMBERS = ['+447700900431', '+447700900432'];
const NAMES = ['Florence Nightingale', 'Mary Seacole'];
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

describe('logs of a full admin flow', () => {
  let g: AdminGateway;
  const lines: string[] = [];
  let token = '';

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    g = await AdminGateway.start({ logger: createLogger('debug', sink), redis: true });
    await g.seedTenant('acme', [{ id: 'boss', role: 'owner' }]);
  });
  afterAll(async () => {
    await g.stop();
  });

  it('hold no phone number, name, password or token', async () => {
    const api = () => request(g.url);
    const login = await api()
      .post('/api/v1/auth/login')
      .send({ tenantId: 'acme', email: 'boss@acme.test', password: TEST_PASSWORD })
      .expect(200);
    token = (login.body as { accessToken: string }).accessToken;
    const auth = `Bearer ${token}`;
    await api()
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', auth)
      .send({ name: 'spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/campaigns/spring/leads')
      .set('Authorization', auth)
      .send({ leads: NUMBERS.map((phone, i) => ({ phone, name: NAMES[i], timeZone: 'Europe/London' })) })
      .expect(200);
    await api().get('/api/v1/tenants/acme/leads/1').set('Authorization', auth).expect(200);
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', auth)
      .send({ phones: [NUMBERS[1]] })
      .expect(200);
    await api()
      .get(`/api/v1/tenants/acme/dnc/${encodeURIComponent(NUMBERS[1]!)}`)
      .set('Authorization', auth)
      .expect(200);
    await api().get(`/api/v1/tenants/acme/dnc/${NUMBERS[0]!}`).set('Authorization', auth).expect(200);
    await api()
      .post('/api/v1/tenants/acme/privacy/access')
      .set('Authorization', auth)
      .send({ phone: NUMBERS[0] })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/privacy/rectifications')
      .set('Authorization', auth)
      .send({ phone: NUMBERS[0], name: 'F. Nightingale' })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/privacy/erasures')
      .set('Authorization', auth)
      .send({ phone: NUMBERS[0] })
      .expect(200);
    // A malformed body quoting a number, and a wrong password.
    await api()
      .post('/api/v1/tenants/acme/privacy/erasures')
      .set('Authorization', auth)
      .send({ phone: '447700900431x' });
    await api()
      .post('/api/v1/auth/login')
      .send({ tenantId: 'acme', email: 'boss@acme.test', password: 'wrong password 447700900432' })
      .expect(401);

    expect(lines.length).toBeGreaterThan(10);
    const text = lines.join('\n');
    for (const n of NUMBERS) expect(text).not.toContain(n.slice(1));
    for (const n of NAMES) expect(text).not.toContain(n);
    expect(text).not.toContain('F. Nightingale');
    expect(text).not.toContain(TEST_PASSWORD);
    expect(text).not.toContain('wrong password');
    expect(text).not.toMatch(JWT);
    expect(text).not.toContain(token);
  });
});
