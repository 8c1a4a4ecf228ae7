// Several numbers per lead, on real Redis and Postgres: tried in order (a retry that did not reach
// the person moves the lead to its next number, wrapping after the last; a contact stays), each
// with its own zones honoured by the calling window, as the agent's device is offered them; a
// number on the do-not-call list is never offered through a lead's list (dropped at intake, skipped
// when listed later); the JSON API's `phones`, a CSV import's second phone column, the lead read
// API's `numbers`, and erasure and the subject export of a further number.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../engine/clock.js';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { asTenantId } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { leadReadResponseSchema } from '../../gateway/http/lead-routes.js';
import { phoneZones } from '../../gateway/leads/phone-zones.js';
import { createRights } from '../../gateway/privacy/rights.js';
import { AdminGateway } from '../support/admin-gateway.js';
import { call, next, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { rowsHolding } from '../support/postgres-scan.js';

const T = 'multi';
const TID = asTenantId(T);
const UK = '+447700900101';
const NY = '+12125550101';
const SYD = '+61255500101';
const H = 3_600_000;
/** Wednesday 3 June 2026, 10:00 UTC: 11:00 in London, 06:00 in New York, 20:00 in Sydney. */
const T0 = Date.UTC(2026, 5, 3, 10);
const OFFICE_HOURS = { rules: [{ days: [1, 2, 3, 4, 5, 6, 7], from: '09:00', to: '17:00' }] };

describe('a lead with several numbers, dialled by a device', () => {
  const clock = new ManualClock(T0);
  let g: TestGateway;
  let device: Device;
  let office: CampaignRef;
  let open: CampaignRef;

  beforeAll(async () => {
    g = await TestGateway.start({ clock });
    await g.seedTenant(T, 1);
    office = await g.campaign(T, 'office', {
      window: OFFICE_HOURS,
      // A retry that reached the person: it stays on the number that reached them.
      dispositions: { spoke_later: { final: false, retryDelayMs: H, contact: true } },
    });
    open = await g.campaign(T, 'open', { window: ALWAYS_OPEN });
    device = await g.connect(T, 0);
  });
  afterAll(async () => {
    await g?.stop();
  });

  /** Ready on the campaign (dispatching it, since the test's clock moves by hand) and take the offer. */
  async function offered(ref: CampaignRef, ms = 3_000) {
    const got = next(device, 'call:offer', ms);
    expect(await call(device, 'agent:ready', { campaignId: ref.campaignId })).toMatchObject({ ok: true });
    g.gateway.dispatcher.trigger(ref);
    const [offer, ack] = await got;
    ack({ accept: true });
    return offer;
  }
  /** Nothing is offered on the campaign within `ms` (the agent is left ready, then paused). */
  async function notOffered(ref: CampaignRef, ms = 800) {
    const got = next(device, 'call:offer', ms).then(
      () => true,
      () => false,
    );
    expect(await call(device, 'agent:ready', { campaignId: ref.campaignId })).toMatchObject({ ok: true });
    g.gateway.dispatcher.trigger(ref);
    expect(await got).toBe(false);
    expect(await call(device, 'agent:pause', { reason: 'break' })).toMatchObject({ ok: true });
  }
  async function complete(leaseId: string, outcome: string) {
    expect(await call(device, 'call:complete', { leaseId, outcome, durationSec: 5 })).toMatchObject({
      ok: true,
    });
    await g.gateway.completions.drain();
  }
  const current = async (leadId: string) =>
    (await g.db.leads.numbers(T, leadId))!.filter((n) => n.current).map((n) => n.phone);

  it('a no-answer dials number 2 next in its own zone, a contact stays on it, and the last wraps to the first', async () => {
    const added = await g.gateway.addLeads(TID, 'office', [
      {
        phone: UK,
        name: 'Three Countries',
        timeZone: 'Europe/London',
        alternates: [
          { phone: NY, timeZone: 'America/New_York' },
          { phone: SYD, timeZone: 'Australia/Sydney' },
        ],
      },
    ]);
    expect(added).toMatchObject({ queued: 1 });
    const leadId = added.rows[0]!.leadId!;
    expect(await g.db.leads.numbers(T, leadId)).toEqual([
      { position: 1, phone: UK, timeZone: ['Europe/London'], current: true },
      { position: 2, phone: NY, timeZone: ['America/New_York'], current: false },
      { position: 3, phone: SYD, timeZone: ['Australia/Sydney'], current: false },
    ]);

    // 11:00 in London: number 1 is offered. Nobody answers.
    const first = await offered(office);
    expect(first.lead).toMatchObject({ id: leadId, phone: UK, timeZone: 'Europe/London' });
    await complete(first.leaseId, 'no_answer');
    expect(await current(leadId)).toEqual([NY]);
    expect(await g.db.leads.get(T, leadId)).toMatchObject({
      phone: NY,
      timeZone: ['America/New_York'],
      attempts: 1,
    });

    // The retry is due at 11:00 UTC, but it is 07:30 in New York: number 2's window is closed
    // (number 1's, London's, is open, and does not count any more).
    clock.set(T0 + 1.5 * H);
    await notOffered(office);
    // 09:05 in New York: number 2 is offered, in its zone.
    clock.set(T0 + 3 * H + 5 * 60_000);
    const second = await offered(office);
    expect(second.lead).toMatchObject({ id: leadId, phone: NY, timeZone: 'America/New_York', attempts: 1 });

    // The person answers but asks to be rung later: a retry that is a contact stays on number 2.
    await complete(second.leaseId, 'spoke_later');
    expect(await current(leadId)).toEqual([NY]);
    clock.advance(1.5 * H);
    const third = await offered(office);
    expect(third.lead).toMatchObject({ id: leadId, phone: NY, attempts: 2 });

    // Busy: on to number 3, Sydney's, closed until 23:00 UTC.
    await complete(third.leaseId, 'busy');
    expect(await current(leadId)).toEqual([SYD]);
    clock.advance(1 * H);
    await notOffered(office);
    clock.set(Date.UTC(2026, 5, 3, 23, 5));
    const fourth = await offered(office);
    expect(fourth.lead).toMatchObject({ id: leadId, phone: SYD, timeZone: 'Australia/Sydney', attempts: 3 });

    // No answer on the last number: back to the first.
    await complete(fourth.leaseId, 'no_answer');
    expect(await current(leadId)).toEqual([UK]);
    expect(await g.db.leads.get(T, leadId)).toMatchObject({
      phone: UK,
      timeZone: ['Europe/London'],
      attempts: 4,
    });
    const snap = await g.store.store.snapshot(office);
    expect(Object.keys(snap.phones)).toEqual([UK]);
  });

  it('a number on the do-not-call list is never offered through a lead: dropped at intake, skipped once listed', async () => {
    const [a, b, c, d, e] = [
      '+447700900201',
      '+447700900202',
      '+447700900203',
      '+447700900204',
      '+447700900205',
    ];
    await g.gateway.suppress(TID, [e], 'api');
    const added = await g.gateway.addLeads(TID, 'open', [
      {
        phone: a,
        timeZone: 'Europe/London',
        alternates: [
          { phone: b, timeZone: 'Europe/London' },
          { phone: e, timeZone: 'Europe/London' },
          { phone: c, timeZone: 'Europe/London' },
        ],
      },
      // A lead of one number whose number is another lead's further one.
      { phone: d, timeZone: 'Europe/London' },
    ]);
    expect(added).toMatchObject({ queued: 2 });
    const leadId = added.rows[0]!.leadId!;
    // The listed number never joined the lead's list.
    expect((await g.db.leads.numbers(T, leadId))!.map((n) => n.phone)).toEqual([a, b, c]);

    // Number 2 is listed after the import: a no-answer on number 1 goes on to number 3.
    await g.gateway.suppress(TID, [b], 'api');
    const first = await offered(open);
    expect(first.lead).toMatchObject({ id: leadId, phone: a });
    await complete(first.leaseId, 'no_answer');
    expect(await current(leadId)).toEqual([c]);
    // (The lead of one number was waiting meanwhile.)
    const second = await offered(open);
    expect(second.lead.phone).toBe(d);
    await complete(second.leaseId, 'answered');
    clock.advance(2 * H);
    const third = await offered(open);
    expect(third.lead).toMatchObject({ id: leadId, phone: c });
    // No answer on number 3: number 1 again (number 2 still listed).
    await complete(third.leaseId, 'no_answer');
    expect(await current(leadId)).toEqual([a]);
    clock.advance(2 * H);
    const fourth = await offered(open);
    expect(fourth.lead).toMatchObject({ id: leadId, phone: a });
    await complete(fourth.leaseId, 'answered');
    const numbersOffered = [first, second, third, fourth].map((o) => o.lead.phone);
    expect(numbersOffered).not.toContain(b);
    expect(numbersOffered).not.toContain(e);
  });

  it('a retry due at once is offered next on the next number, even when the move is slow to land', async () => {
    const [a, b] = ['+447700900271', '+447700900272'];
    const quick = await g.campaign(T, 'quick', {
      window: ALWAYS_OPEN,
      // Not a contact, and due again at once: the next offer must already be on number 2.
      dispositions: { dropped: { final: false, retryDelayMs: 0, contact: false } },
    });
    const added = await g.gateway.addLeads(TID, 'quick', [
      { phone: a, timeZone: 'Europe/London', alternates: [{ phone: b, timeZone: 'Europe/London' }] },
    ]);
    const leadId = added.rows[0]!.leadId!;
    const first = await offered(quick);
    expect(first.lead).toMatchObject({ id: leadId, phone: a });
    // The move's Postgres side takes 500 ms (a loaded database): the device is answered, and is
    // ready again, long before it lands.
    const leads = g.db.leads;
    const advance = leads.advance.bind(leads);
    leads.advance = async (...args) => {
      await new Promise((r) => setTimeout(r, 500));
      return advance(...args);
    };
    try {
      expect(
        await call(device, 'call:complete', { leaseId: first.leaseId, outcome: 'dropped', durationSec: 5 }),
      ).toMatchObject({ ok: true });
      const second = await offered(quick);
      expect(second.lead).toMatchObject({ id: leadId, phone: b, attempts: 1 });
      await complete(second.leaseId, 'answered');
    } finally {
      leads.advance = advance;
      await g.gateway.completions.drain();
    }
  });

  it('a retry due at once whose lead has no usable number left is offered again at once on its own', async () => {
    const [a, b] = ['+447700900281', '+447700900282'];
    const again = await g.campaign(T, 'again', {
      window: ALWAYS_OPEN,
      dispositions: { dropped: { final: false, retryDelayMs: 0, contact: false } },
    });
    const added = await g.gateway.addLeads(TID, 'again', [
      { phone: a, timeZone: 'Europe/London', alternates: [{ phone: b, timeZone: 'Europe/London' }] },
    ]);
    const leadId = added.rows[0]!.leadId!;
    await g.gateway.suppress(TID, [b], 'api');
    const first = await offered(again);
    expect(first.lead).toMatchObject({ id: leadId, phone: a });
    await complete(first.leaseId, 'dropped');
    // Held back for the move, then released at its due time: not after the hold (CALL_TTL_MS).
    const second = await offered(again, 2_000);
    expect(second.lead).toMatchObject({ id: leadId, phone: a, attempts: 1 });
    await complete(second.leaseId, 'answered');
  });

  it("every attempt records the number it dialled and its place: in the lead's history, in the subject export, and gone with an erasure of that number", async () => {
    const [a, b] = ['+447700900291', '+447700900292'];
    const history = await g.campaign(T, 'history', { window: ALWAYS_OPEN });
    const added = await g.gateway.addLeads(TID, 'history', [
      { phone: a, timeZone: 'Europe/London', alternates: [{ phone: b, timeZone: 'Europe/London' }] },
    ]);
    const leadId = added.rows[0]!.leadId!;
    const first = await offered(history);
    await complete(first.leaseId, 'no_answer');
    clock.advance(2 * H);
    const second = await offered(history);
    expect(second.lead).toMatchObject({ id: leadId, phone: b });
    await complete(second.leaseId, 'answered');

    const dialled = async () =>
      (await g.db.reads.attempts(T, { leadId, limit: 100 })).items.map((x) => [
        x.outcome,
        x.phone,
        x.phonePosition,
      ]);
    expect(await dialled()).toEqual([
      ['no_answer', a, 1],
      ['answered', b, 2],
    ]);

    // The person of number 1 asks what is held: the calls to their number, and that the lead was
    // called on another of its numbers (not which).
    const rights = createRights(g.gateway);
    const exported = await rights.access(TID, a, { actor: 'boss', now: clock.now() });
    expect(exported.attempts.map((x) => [x.outcome, x.dialled])).toEqual([
      ['no_answer', { position: 1, phone: a, thisNumber: true }],
      ['answered', { position: 2, phone: null, thisNumber: false }],
    ]);

    // Erased: the lead (on number 2 now) stays, its attempt on number 1 no longer says the number.
    await rights.erase(TID, a, { actor: 'boss', now: clock.now() });
    expect(await rowsHolding(g.pg, [a.slice(1)])).toEqual([]);
    expect(await dialled()).toEqual([
      ['no_answer', null, 1],
      ['answered', b, 2],
    ]);
  });

  it('in a marketing campaign, a number without live voice consent is skipped', async () => {
    const [a, b, c] = ['+447700900251', '+447700900252', '+447700900253'];
    const market = await g.campaign(T, 'market', { window: ALWAYS_OPEN });
    await g.db.privacy.consent.setCampaignSettings(T, 'market', {
      kind: 'marketing',
      callbackHandoverMin: null,
      agentFields: null,
    });
    const hashes = await g.db.privacy.keys.hashesOf(T, [a, c]);
    for (const hash of hashes.values()) {
      await g.db.privacy.consent.record(
        T,
        hash,
        { channel: 'voice', source: 'web form', givenAt: 0, expiresAt: null, evidenceRef: null },
        clock.now(),
      );
    }
    const added = await g.gateway.addLeads(TID, 'market', [
      {
        phone: a,
        timeZone: 'Europe/London',
        alternates: [
          { phone: b, timeZone: 'Europe/London' },
          { phone: c, timeZone: 'Europe/London' },
        ],
      },
    ]);
    const leadId = added.rows[0]!.leadId!;
    const first = await offered(market);
    expect(first.lead).toMatchObject({ id: leadId, phone: a });
    await complete(first.leaseId, 'voicemail');
    expect(await current(leadId)).toEqual([c]);
  });
});

describe('several numbers through the admin API, CSV import, erasure and the subject export', () => {
  let g: AdminGateway;
  let owner = '';
  const api = () => request(g.url);
  const LISTED = '+447700900399';
  const ALT = '+12125550142';

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant(T, [{ id: 'boss', role: 'owner' }], 10, { defaultCountry: 'GB' });
    owner = await g.bearer(T, 'boss');
    await api()
      .put(`/api/v1/tenants/${T}/campaigns/spring`)
      .set('Authorization', owner)
      .send({ name: 'Spring', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await api()
      .post(`/api/v1/tenants/${T}/dnc`)
      .set('Authorization', owner)
      .send({ phones: [LISTED] })
      .expect(200);
  });
  afterAll(async () => {
    await g?.stop();
  });

  /** GET the lead: the answer is what the OpenAPI document says it is. */
  const readLead = async (leadId: string) =>
    leadReadResponseSchema.parse(
      (await api().get(`/api/v1/tenants/${T}/leads/${leadId}`).set('Authorization', owner).expect(200)).body,
    );

  /** A campaign of its own, open all day, holding one lead named `name` with two London numbers. */
  async function twoNumberLead(campaignId: string, name: string, phones: [string, string]): Promise<string> {
    await api()
      .put(`/api/v1/tenants/${T}/campaigns/${campaignId}`)
      .set('Authorization', owner)
      .send({ name: campaignId, status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    const res = await api()
      .post(`/api/v1/tenants/${T}/campaigns/${campaignId}/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ name, phones: phones.map((phone) => ({ phone, timeZone: 'Europe/London' })) }] })
      .expect(200);
    return (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
  }

  it('takes phones as JSON (zones derived per number, listed ones dropped) and reads them back with the current one', async () => {
    const res = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/leads`)
      .set('Authorization', owner)
      .send({
        leads: [
          {
            name: 'Ada',
            phones: [
              { phone: '+447700900301', timeZone: 'Europe/London' },
              { phone: ALT },
              { phone: LISTED },
            ],
          },
          { phone: '+447700900302', timeZone: 'Europe/London' },
        ],
      })
      .expect(200);
    expect(res.body).toMatchObject({ queued: 2, rows: [{ status: 'queued' }, { status: 'queued' }] });
    const [ada, single] = (res.body as { rows: { leadId: string }[] }).rows.map((r) => r.leadId);
    expect((await readLead(ada!)).lead).toMatchObject({
      phone: '+447700900301',
      numbers: [
        { position: 1, phone: '+447700900301', timeZone: ['Europe/London'], current: true },
        { position: 2, phone: ALT, timeZone: ['America/New_York'], current: false },
      ],
    });
    expect((await readLead(single!)).lead.numbers).toEqual([
      { position: 1, phone: '+447700900302', timeZone: ['Europe/London'], current: true },
    ]);

    // PATCH to the lead's second number makes it current, with the zone given.
    const patched = await api()
      .patch(`/api/v1/tenants/${T}/leads/${ada}`)
      .set('Authorization', owner)
      .send({ phone: ALT, timeZone: 'America/Detroit' })
      .expect(200);
    expect((patched.body as { lead: { numbers: unknown } }).lead.numbers).toEqual([
      { position: 1, phone: '+447700900301', timeZone: ['Europe/London'], current: false },
      { position: 2, phone: ALT, timeZone: ['America/Detroit'], current: true },
    ]);
    // And a new number replaces the current one in the list.
    await api()
      .patch(`/api/v1/tenants/${T}/leads/${ada}`)
      .set('Authorization', owner)
      .send({ phone: '+12125550143' })
      .expect(200);
    expect((await readLead(ada!)).lead.numbers.map((n) => [n.phone, n.current])).toEqual([
      ['+447700900301', false],
      ['+12125550143', true],
    ]);
  });

  it('PATCH phones replaces the whole list: read as typed, zones derived, the first dialled now, the queued copy corrected in place, audited', async () => {
    const fay = await twoNumberLead('swap', 'Fay', ['+447700900341', '+447700900342']);
    const patch = (body: object) =>
      api().patch(`/api/v1/tenants/${T}/leads/${fay}`).set('Authorization', owner).send(body);

    const patched = await patch({
      phones: [
        { phone: '020 7946 0051' },
        { phone: '+1 310 555 0151', timeZone: 'America/Chicago' },
        { phone: '+447700900342' },
      ],
    }).expect(200);
    const replaced = [
      // The zones London's 020 rings in (as intake derives them).
      {
        position: 1,
        phone: '+442079460051',
        timeZone: [...phoneZones().zonesOf('+442079460051')],
        current: true,
      },
      { position: 2, phone: '+13105550151', timeZone: ['America/Chicago'], current: false },
      {
        position: 3,
        phone: '+447700900342',
        timeZone: [...phoneZones().zonesOf('+447700900342')],
        current: false,
      },
    ];
    expect((patched.body as { lead: unknown }).lead).toMatchObject({
      phone: '+442079460051',
      numbers: replaced,
    });
    expect((await readLead(fay)).lead.numbers).toEqual(replaced);
    const entry = (await g.db.audit.list(T, { limit: 5 })).find((e) => e.action === 'lead.patch');
    expect(entry).toMatchObject({ subject: fay, details: { campaign: 'swap', fields: ['phones'] } });

    // Refused, with nothing changed: a listed or erased number, a number twice, phone and phones
    // together, no number, more than 10.
    const erased = '+447700900349';
    await createRights(g.gateway).erase(TID, erased, { actor: 'boss', now: Date.now() });
    for (const [body, code] of [
      [{ phones: [{ phone: '+447700900343' }, { phone: LISTED }] }, 'INPUT_INVALID'],
      [{ phones: [{ phone: erased }] }, 'INPUT_INVALID'],
      [{ phones: [{ phone: '+447700900343' }, { phone: '07700 900343' }] }, 'LEAD_INVALID'],
      [{ phones: [{ phone: 'not a number' }] }, 'LEAD_INVALID'],
      [{ phones: [{ phone: '+447700900343' }], phone: '+447700900344' }, 'PAYLOAD_INVALID'],
      [{ phones: [] }, 'PAYLOAD_INVALID'],
      [
        { phones: Array.from({ length: 11 }, (_, k) => ({ phone: `+4477009003${50 + k}` })) },
        'PAYLOAD_INVALID',
      ],
    ] as const) {
      const refused = await patch(body);
      expect([refused.status, (refused.body as { error: { code: string } }).error.code]).toEqual([
        code === 'PAYLOAD_INVALID' || code === 'LEAD_INVALID' || code === 'INPUT_INVALID' ? 400 : 409,
        code,
      ]);
    }
    expect((await readLead(fay)).lead.numbers).toEqual(replaced);

    // The queue offers the lead on its new first number, in its zone.
    const offer = await g.gateway.deps.store.lease(
      { tenantId: TID, campaignId: 'swap' } as CampaignRef,
      { agentId: 'x' as never, deviceId: 'y' as never },
      Date.now(),
      5_000,
    );
    expect(offer?.lead).toMatchObject({ id: fay, phone: '+442079460051' });
    // On a call, the list is not replaced.
    expect((await patch({ phones: [{ phone: '+447700900345' }] }).expect(409)).body).toMatchObject({
      error: { code: 'LEAD_BUSY' },
    });
    expect((await readLead(fay)).lead.numbers).toEqual(replaced);
  });

  it('PATCH phones in a marketing campaign takes only numbers with live voice consent', async () => {
    const [a, b, c] = ['+447700900361', '+447700900362', '+447700900363'];
    await api()
      .put(`/api/v1/tenants/${T}/campaigns/offers`)
      .set('Authorization', owner)
      .send({ name: 'Offers', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await g.db.privacy.consent.setCampaignSettings(T, 'offers', {
      kind: 'marketing',
      callbackHandoverMin: null,
      agentFields: null,
    });
    for (const hash of (await g.db.privacy.keys.hashesOf(T, [a, c])).values()) {
      await g.db.privacy.consent.record(
        T,
        hash,
        { channel: 'voice', source: 'web form', givenAt: 0, expiresAt: null, evidenceRef: null },
        Date.now(),
      );
    }
    const res = await api()
      .post(`/api/v1/tenants/${T}/campaigns/offers/leads`)
      .set('Authorization', owner)
      .send({ leads: [{ phone: a, timeZone: 'Europe/London' }] })
      .expect(200);
    const lead = (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
    const patch = (phones: string[]) =>
      api()
        .patch(`/api/v1/tenants/${T}/leads/${lead}`)
        .set('Authorization', owner)
        .send({ phones: phones.map((phone) => ({ phone, timeZone: 'Europe/London' })) });
    const refused = await patch([a, b, c]).expect(400);
    expect(refused.body).toMatchObject({ error: { code: 'INPUT_INVALID' } });
    expect((refused.body as { error: { message: string } }).error.message).toContain('phones[1]');
    await patch([c, a]).expect(200);
    expect((await readLead(lead)).lead.numbers.map((n) => [n.phone, n.current])).toEqual([
      [c, true],
      [a, false],
    ]);
  });

  it('refuses phones it cannot dial or that contradict themselves, naming the field', async () => {
    const post = (lead: object) =>
      api()
        .post(`/api/v1/tenants/${T}/campaigns/spring/leads`)
        .set('Authorization', owner)
        .send({ leads: [lead] });
    const noZone = await post({ phones: [{ phone: '+447700900311' }, { phone: '+80012345678' }] }).expect(
      400,
    );
    expect(noZone.body).toMatchObject({ error: { code: 'LEAD_INVALID' } });
    expect((noZone.body as { error: { message: string } }).error.message).toContain(
      'leads[0].phones[1].timeZone',
    );
    for (const bad of [
      { phone: '+447700900312', phones: [{ phone: '+447700900313' }] },
      { phones: [{ phone: '+447700900314' }, { phone: '+447700900314' }] },
      { phones: [{ phone: '+447700900315' }], timeZone: 'Europe/London' },
      { phones: [] },
      {},
    ]) {
      expect((await post(bad).expect(400)).body).toMatchObject({ error: { code: 'PAYLOAD_INVALID' } });
    }
    expect(await g.db.leads.findQueued(T, 'spring', ['+447700900311', '+447700900312'])).toEqual([]);
  });

  it('a CSV import stores a second phone column as number 2, in its own zone', async () => {
    const csv = 'Name,Phone,Phone 2\r\nBea Brown,020 7946 0031,+1 310 555 0147\r\nCy Cole,020 7946 0032,\r\n';
    const res = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/imports`)
      .query({ defaultCountry: 'GB' })
      .set('Authorization', owner)
      .set('Content-Type', 'text/csv')
      .send(csv)
      .expect(201);
    expect((res.body as { import: unknown }).import).toMatchObject({
      status: 'done',
      queued: 2,
      rejected: 0,
    });
    const [bea] = await g.db.leads.findQueued(T, 'spring', ['+442079460031']);
    expect(bea).toMatchObject({ name: 'Bea Brown', fields: {} });
    expect(await g.db.leads.numbers(T, bea!.id)).toEqual([
      { position: 1, phone: '+442079460031', timeZone: ['Europe/London'], current: true },
      { position: 2, phone: '+13105550147', timeZone: ['America/Los_Angeles'], current: false },
    ]);
    const [cy] = await g.db.leads.findQueued(T, 'spring', ['+442079460032']);
    expect(await g.db.leads.numbers(T, cy!.id)).toHaveLength(1);
  });

  it('the subject export finds a lead by its further number; erasure takes it out of every list, 0 matches left', async () => {
    const res = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/leads`)
      .set('Authorization', owner)
      .send({
        leads: [
          {
            name: 'Dot',
            phones: [
              { phone: '+447700900321', timeZone: 'Europe/London' },
              { phone: '+13105550188' },
              { phone: '+447700900322', timeZone: 'Europe/London' },
            ],
          },
        ],
      })
      .expect(200);
    const dot = (res.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
    const rights = createRights(g.gateway);
    const exported = await rights.access(TID, '+13105550188', { actor: 'boss', now: Date.now() });
    expect(exported.leads).toMatchObject([{ id: dot, name: 'Dot', number: { position: 2, current: false } }]);

    const digits = '13105550188';
    expect((await rowsHolding(g.pg, [digits])).length).toBeGreaterThan(0);
    await rights.erase(TID, '+13105550188', { actor: 'boss', now: Date.now() });
    expect(await rowsHolding(g.pg, [digits])).toEqual([]);
    // The lead keeps its other numbers, and stays queued on its first.
    expect((await readLead(dot)).lead.numbers.map((n) => [n.position, n.phone, n.current])).toEqual([
      [1, '+447700900321', true],
      [3, '+447700900322', false],
    ]);
    // The erased number cannot come back as a further number either.
    const again = await api()
      .post(`/api/v1/tenants/${T}/campaigns/spring/leads`)
      .set('Authorization', owner)
      .send({
        leads: [
          { phones: [{ phone: '+447700900323', timeZone: 'Europe/London' }, { phone: '+13105550188' }] },
        ],
      })
      .expect(200);
    const newId = (again.body as { rows: { leadId: string }[] }).rows[0]!.leadId;
    expect((await readLead(newId)).lead.numbers.map((n) => n.phone)).toEqual(['+447700900323']);
    expect(await rowsHolding(g.pg, [digits])).toEqual([]);
  });

  it('rectifies a lead found by its further number, in Postgres and in the copy queued under its current number', async () => {
    const eve = await twoNumberLead('rect', 'Eve', ['+447700900331', '+447700900332']);
    const rights = createRights(g.gateway);
    const done = await rights.rectify(
      TID,
      '+447700900332',
      { name: 'Eve Smith' },
      { actor: 'boss', now: Date.now() },
    );
    expect(done.leads).toMatchObject([{ leadId: eve, changed: ['name'] }]);
    expect((await readLead(eve)).lead.name).toBe('Eve Smith');
    // The queue offers the corrected copy, still on the number it is dialled on.
    const offered = await g.gateway.deps.store.lease(
      { tenantId: TID, campaignId: 'rect' } as CampaignRef,
      { agentId: 'x' as never, deviceId: 'y' as never },
      Date.now(),
      5_000,
    );
    expect(offered?.lead).toMatchObject({ id: eve, phone: '+447700900331', name: 'Eve Smith' });
  });
});
