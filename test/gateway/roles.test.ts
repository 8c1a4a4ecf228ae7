// Roles and tenancy on the admin API: every route tried by every role of the tenant, by another
// tenant's owner and by the operator; the operator's token only bootstraps; owners stay; a
// deleted user or a changed password ends sessions; every admin action is in the audit log.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { followInQueue } from '../../gateway/http/queue-follow.js';
import { AdminGateway, TEST_ADMIN_TOKEN, TEST_PASSWORD } from '../support/admin-gateway.js';

type Who = 'owner' | 'admin' | 'supervisor' | 'agent' | 'otherOwner' | 'operator';
const WHO: readonly Who[] = ['owner', 'admin', 'supervisor', 'agent', 'otherOwner', 'operator'];

interface Route {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  readonly path: (n: number) => string;
  readonly body?: (n: number) => object;
  /** Who may: everyone else must get 403. */
  readonly allowed: readonly Who[];
}

const ADMINS: readonly Who[] = ['owner', 'admin'];
const SUPERVISORS: readonly Who[] = ['owner', 'admin', 'supervisor'];
/** A queued lead and a callback, made before the matrix runs. */
let leadId = '';
let callbackId = '';
const phone = (n: number) => `+447700900${String(n % 1000).padStart(3, '0')}`;

const ROUTES: readonly Route[] = [
  { method: 'get', path: () => '/users', allowed: ADMINS },
  {
    method: 'post',
    path: () => '/users',
    body: (n) => ({ id: `new${n}`, name: 'New', role: 'agent' }),
    allowed: ADMINS,
  },
  { method: 'get', path: () => '/users/ada', allowed: ADMINS },
  { method: 'patch', path: () => '/users/al', body: (n) => ({ name: `Al ${n}` }), allowed: ADMINS },
  { method: 'get', path: () => '/audit', allowed: ADMINS },
  { method: 'put', path: (n) => `/agents/ag${n}`, body: () => ({ name: 'Agent' }), allowed: ADMINS },
  {
    method: 'put',
    path: (n) => `/campaigns/c${n}`,
    body: (n) => ({ name: `C${n}`, status: 'active', window: ALWAYS_OPEN }),
    allowed: ADMINS,
  },
  {
    method: 'post',
    path: () => '/campaigns/spring/leads',
    body: (n) => ({ leads: [{ phone: phone(n), timeZone: 'Europe/London' }] }),
    allowed: ADMINS,
  },
  { method: 'post', path: () => '/dnc', body: (n) => ({ phones: [phone(500 + n)] }), allowed: ADMINS },
  { method: 'post', path: () => '/campaigns/spring/rebuild', allowed: ADMINS },
  { method: 'get', path: () => '/campaigns/spring/stats', allowed: ['owner', 'admin', 'supervisor'] },
  // Campaign edits and archive (gateway/http/campaign-routes.ts).
  {
    method: 'patch',
    path: () => '/campaigns/spring',
    body: (n) => ({ name: `Spring ${n}` }),
    allowed: ADMINS,
  },
  { method: 'delete', path: (n) => `/campaigns/old${n}`, allowed: ADMINS },
  // Reports (gateway/http/report-routes.ts).
  { method: 'get', path: () => '/reports/agents', allowed: ['owner', 'admin', 'supervisor'] },
  { method: 'get', path: () => '/attempts?format=csv', allowed: ['owner', 'admin', 'supervisor'] },
  // The do-not-call list (gateway/http/dnc-routes.ts): the POST above listed 500 + n.
  { method: 'get', path: (n) => `/dnc/${encodeURIComponent(phone(500 + n))}`, allowed: ADMINS },
  { method: 'delete', path: (n) => `/dnc/${encodeURIComponent(phone(600 + n))}`, allowed: ADMINS },
  // Lead edits and callbacks (gateway/http/lead-routes.ts, callback-routes.ts).
  { method: 'patch', path: () => `/leads/${leadId}`, body: (n) => ({ name: `Lead ${n}` }), allowed: ADMINS },
  { method: 'get', path: () => '/campaigns/spring/callbacks?when=upcoming', allowed: SUPERVISORS },
  {
    method: 'post',
    path: () => '/campaigns/spring/callbacks',
    body: () => ({ leadId, at: new Date(Date.now() + 3_600_000).toISOString() }),
    allowed: SUPERVISORS,
  },
  { method: 'get', path: () => `/callbacks/${callbackId}`, allowed: SUPERVISORS },
];

describe('roles and tenancy on the admin API', () => {
  let g: AdminGateway;
  const bearer = new Map<Who, string>();
  const api = () => request(g.url);

  async function login(tenantId: string, id: string, password = TEST_PASSWORD): Promise<string> {
    const res = await api()
      .post('/api/v1/auth/login')
      .send({ tenantId, email: `${id}@${tenantId}.test`, password })
      .expect(200);
    return `Bearer ${(res.body as { accessToken: string }).accessToken}`;
  }

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'ada', role: 'admin' },
      { id: 'sue', role: 'supervisor' },
      { id: 'al', role: 'agent' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    bearer.set('owner', await login('acme', 'boss'));
    bearer.set('admin', await login('acme', 'ada'));
    bearer.set('supervisor', await login('acme', 'sue'));
    bearer.set('agent', await login('acme', 'al'));
    bearer.set('otherOwner', await login('other', 'oz'));
    bearer.set('operator', `Bearer ${TEST_ADMIN_TOKEN}`);
    await api()
      .put('/api/v1/tenants/acme/campaigns/spring')
      .set('Authorization', bearer.get('owner')!)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    const added = await g.gateway.addLeads('acme' as never, 'spring', [
      { phone: phone(950), timeZone: 'Europe/London' },
    ]);
    leadId = added.rows[0]!.leadId!;
    const made = await g.db.callbacks.create(
      'acme',
      'spring',
      leadId,
      { dueAt: Date.now() + 7_200_000, agentId: null },
      followInQueue(g.gateway),
    );
    callbackId = made.ok ? made.callback.id : '';
    // One listed number for each try at taking one off the list.
    await g.db.dnc.add(
      'acme',
      Array.from({ length: 300 }, (_, i) => phone(600 + i)),
      'api',
    );
    // One campaign for each try at archiving (the matrix numbers its tries).
    for (let n = 1; n <= 200; n++) {
      await g.db.campaigns.upsert({
        tenantId: 'acme',
        id: `old${n}`,
        name: 'Old',
        status: 'paused',
        config: { window: ALWAYS_OPEN },
      });
    }
  });
  afterAll(async () => {
    await g?.stop();
  });

  it('every route answers each role, another tenant and the operator as its role allows', async () => {
    let n = 0;
    const wrong: string[] = [];
    for (const route of ROUTES) {
      for (const who of WHO) {
        n++;
        const path = `/api/v1/tenants/acme${route.path(n)}`;
        const req = api()[route.method](path).set('Authorization', bearer.get(who)!);
        const res = route.body ? await req.send(route.body(n)) : await req;
        const allowed = route.allowed.includes(who);
        const ok = allowed ? res.status < 400 : res.status === 403;
        if (!ok) wrong.push(`${route.method.toUpperCase()} ${path} as ${who}: ${res.status}`);
        if (!allowed && res.status === 403) {
          expect((res.body as { error: { code: string } }).error.code).toBe('FORBIDDEN');
          // Nothing of the tenant in a refusal.
          expect(JSON.stringify(res.body)).not.toMatch(/spring|boss|ada|sue|\+44/);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a refused write changed nothing', async () => {
    await api()
      .post('/api/v1/tenants/acme/users')
      .set('Authorization', bearer.get('otherOwner')!)
      .send({ id: 'mole', name: 'Mole', role: 'owner' })
      .expect(403);
    expect(await g.db.users.get('acme', 'mole')).toBeUndefined();
    expect(await g.db.users.get('other', 'mole')).toBeUndefined();
  });

  it('the operator creates tenants and their first owner, and nothing else', async () => {
    const op = bearer.get('operator')!;
    await api()
      .put('/api/v1/tenants/fresh')
      .set('Authorization', op)
      .send({ name: 'Fresh', plan: { deviceLimit: 2 } })
      .expect(201);
    // A tenant's owner cannot create tenants.
    await api()
      .put('/api/v1/tenants/rogue')
      .set('Authorization', bearer.get('owner')!)
      .send({ name: 'Rogue', plan: { deviceLimit: 2 } })
      .expect(403);
    await api()
      .post('/api/v1/tenants/fresh/users')
      .set('Authorization', op)
      .send({ id: 'ann', name: 'Ann', role: 'admin', email: 'ann@fresh.test', password: TEST_PASSWORD })
      .expect(403);
    await api()
      .post('/api/v1/tenants/fresh/users')
      .set('Authorization', op)
      .send({ id: 'fo', name: 'First Owner', role: 'owner', email: 'fo@fresh.test', password: TEST_PASSWORD })
      .expect(201);
    const second = await api()
      .post('/api/v1/tenants/fresh/users')
      .set('Authorization', op)
      .send({ id: 'fo2', name: 'Second', role: 'owner', email: 'fo2@fresh.test', password: TEST_PASSWORD })
      .expect(403);
    expect((second.body as { error: { message: string } }).error.message).toMatch(/has an owner/);
    await api()
      .post('/api/v1/tenants/ghost/users')
      .set('Authorization', op)
      .send({ id: 'x', name: 'X', role: 'owner' })
      .expect(404);
    expect(await login('fresh', 'fo')).toMatch(/^Bearer /);
  });

  it('admins cannot make or touch owners; a tenant keeps its last owner', async () => {
    const admin = bearer.get('admin')!;
    const owner = bearer.get('owner')!;
    await api()
      .post('/api/v1/tenants/acme/users')
      .set('Authorization', admin)
      .send({ id: 'o2', name: 'O2', role: 'owner' })
      .expect(403);
    await api()
      .patch('/api/v1/tenants/acme/users/sue')
      .set('Authorization', admin)
      .send({ role: 'owner' })
      .expect(403);
    await api()
      .patch('/api/v1/tenants/acme/users/boss')
      .set('Authorization', admin)
      .send({ name: 'X' })
      .expect(403);
    await api().delete('/api/v1/tenants/acme/users/boss').set('Authorization', admin).expect(403);
    const last = await api()
      .patch('/api/v1/tenants/acme/users/boss')
      .set('Authorization', owner)
      .send({ role: 'admin' })
      .expect(409);
    expect((last.body as { error: { code: string } }).error.code).toBe('CONFLICT');
    await api().delete('/api/v1/tenants/acme/users/boss').set('Authorization', owner).expect(409);
    expect((await g.db.users.get('acme', 'boss'))?.role).toBe('owner');
  });

  it('a deleted user and a changed password end the sessions: their tokens are refused', async () => {
    const owner = bearer.get('owner')!;
    await api()
      .post('/api/v1/tenants/acme/users')
      .set('Authorization', owner)
      .send({ id: 'temp', name: 'Temp', role: 'admin', email: 'temp@acme.test', password: TEST_PASSWORD })
      .expect(201);
    const temp = await login('acme', 'temp');
    await api().get('/api/v1/tenants/acme/users').set('Authorization', temp).expect(200);
    await api()
      .patch('/api/v1/tenants/acme/users/temp')
      .set('Authorization', owner)
      .send({ password: 'a brand new password' })
      .expect(200);
    await api().get('/api/v1/tenants/acme/users').set('Authorization', temp).expect(401);
    const again = await login('acme', 'temp', 'a brand new password');
    await api().get('/api/v1/tenants/acme/users').set('Authorization', again).expect(200);
    await api().delete('/api/v1/tenants/acme/users/temp').set('Authorization', owner).expect(204);
    await api().get('/api/v1/tenants/acme/users').set('Authorization', again).expect(401);
    await api()
      .post('/api/v1/auth/login')
      .send({ tenantId: 'acme', email: 'temp@acme.test', password: 'a brand new password' })
      .expect(401);
  });

  it('a demoted user loses the role at once, not when the token expires', async () => {
    await api()
      .post('/api/v1/tenants/acme/users')
      .set('Authorization', bearer.get('owner')!)
      .send({ id: 'dem', name: 'Dem', role: 'admin', email: 'dem@acme.test', password: TEST_PASSWORD })
      .expect(201);
    const dem = await login('acme', 'dem');
    await g.db.users.update('acme', 'dem', { role: 'agent' }); // straight in the database
    await api().get('/api/v1/tenants/acme/users').set('Authorization', dem).expect(403);
  });

  it('lists users with cursor pagination in id order, and never shows a password hash', async () => {
    const owner = bearer.get('owner')!;
    const first = await api()
      .get('/api/v1/tenants/acme/users?limit=2')
      .set('Authorization', owner)
      .expect(200);
    const page1 = first.body as { items: { id: string }[]; next: string };
    expect(page1.items).toHaveLength(2);
    const second = await api()
      .get(`/api/v1/tenants/acme/users?limit=500&after=${page1.next}`)
      .set('Authorization', owner)
      .expect(200);
    const ids = [...page1.items, ...(second.body as { items: { id: string }[] }).items].map((u) => u.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toEqual(expect.arrayContaining(['ada', 'al', 'boss', 'sue']));
    expect(JSON.stringify([first.body, second.body])).not.toContain('argon2');
  });

  it('records admin actions in the audit log: who, what, when and from where', async () => {
    const res = await api()
      .get('/api/v1/tenants/acme/audit')
      .set('Authorization', bearer.get('owner')!)
      .expect(200);
    const items = (
      res.body as { items: { actor: string; action: string; subject: string; details: { ip: string } }[] }
    ).items;
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'boss', action: 'campaign.put', subject: 'spring' }),
        expect.objectContaining({ actor: 'ada', action: 'user.create' }),
        expect.objectContaining({ actor: 'boss', action: 'user.delete', subject: 'temp' }),
      ]),
    );
    expect(items[0]!.details.ip).toMatch(/127\.0\.0\.1/);
    expect(JSON.stringify(items)).not.toMatch(/\+44|argon2|brand new password|correct horse/);
    // Other tenants' actions are not in it.
    expect(items.some((i) => i.actor === 'oz' || i.subject === 'fo')).toBe(false);
  });
});
