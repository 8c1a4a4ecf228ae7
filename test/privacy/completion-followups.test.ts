// The follow-up a device asks for in call:complete is sent once the outcome is saved, through the
// follow-up path (the campaign's template, the do-not-call list, the SMS outbox to a real local
// HTTP provider, a WhatsApp click-to-chat link), once per call: a retried completion answers the
// same follow-up and nothing is sent twice. The result comes back in the acknowledgement, a
// refusal with its code (the outcome is saved either way). Real Postgres, Redis, HTTP, sockets.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { createHttpApp } from '../../gateway/http/app.js';
import { silentLogger } from '../../gateway/logger.js';
import type { Device } from '../support/gateway.js';
import { call, next, TEST_SECRET, TestGateway, until } from '../support/gateway.js';

const T = 'fu';
const C = 'thanks';

interface Ack {
  ok: boolean;
  duplicate?: boolean;
  leadId?: string;
  followUp?: {
    status: string;
    channel: string;
    followUpId?: string;
    link?: string;
    code?: string;
    message?: string;
    retryable?: boolean;
  };
  error?: { code: string };
}

describe('follow-ups from call:complete', () => {
  let g: TestGateway;
  let receiver: Server;
  const sms: { to: string; body: string; reference: string }[] = [];
  let device: Device;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        sms.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof sms)[number]);
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: `msg-${sms.length}` }));
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as AddressInfo).port;
    g = await TestGateway.start({
      config: { SMS_HTTP_URL: `http://127.0.0.1:${port}/sms` },
      // The HTTP app runs the SMS outbox worker.
      http: (gw) =>
        createHttpApp(gw, {
          adminToken: 'admin-token-for-tests-0123456789',
          logger: silentLogger,
          tokens: createDeviceTokens(TEST_SECRET),
          serverSecret: TEST_SECRET,
        }),
    });
    await g.seedTenant(T, 1);
    await g.campaign(T, C);
    await g.db.privacy.followups.putTemplate(T, C, 'sms-thanks', {
      channel: 'sms',
      body: 'Thanks {{firstName}}, speak soon.',
    });
    await g.db.privacy.followups.putTemplate(T, C, 'wa-thanks', {
      channel: 'whatsapp',
      body: 'Hello {{name}}',
    });
    await g.leads(T, C, 10);
    device = await g.connect(T, 0);
    device.on('call:offer', (_offer, ack) => ack({ accept: true }));
  });
  afterAll(async () => {
    await g?.stop();
    await new Promise((r) => receiver?.close(r));
  });

  /** Take the next call and complete it with this payload (leaseId added); answers its lease id and ack. */
  async function oneCall(
    payload: Record<string, unknown>,
  ): Promise<{ leaseId: string; phone: string; name: string; ack: Ack }> {
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const [offer] = await offered;
    const ack = (await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      durationSec: 12,
      ...payload,
    })) as unknown as Ack;
    return { leaseId: offer.leaseId, phone: offer.lead.phone, name: offer.lead.name ?? '', ack };
  }

  it('an SMS follow-up goes through the outbox to the provider once, however often the completion is retried', async () => {
    const first = await oneCall({
      outcome: 'answered',
      followUp: { channel: 'sms', template: 'sms-thanks' },
    });
    expect(first.ack).toMatchObject({
      ok: true,
      duplicate: false,
      followUp: { status: 'pending', channel: 'sms', followUpId: expect.stringMatching(/^\d+$/) as unknown },
    });
    const id = first.ack.followUp!.followUpId!;

    // The same completion again (the device did not hear the answer): same follow-up, none new.
    const again = (await call(device, 'call:complete', {
      leaseId: first.leaseId,
      outcome: 'answered',
      durationSec: 12,
      followUp: { channel: 'sms', template: 'sms-thanks' },
    })) as unknown as Ack;
    expect(again).toMatchObject({ ok: true, duplicate: true, followUp: { channel: 'sms', followUpId: id } });

    await until(() => sms.length >= 1, 10_000);
    await new Promise((r) => setTimeout(r, 1_500)); // a second send would have come by now
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({
      to: first.phone,
      body: expect.stringMatching(/^Thanks Lead, speak soon\.$/) as unknown,
    });

    const recorded = await g.db.privacy.followups.list(T, { leadId: first.ack.leadId!, limit: 10 });
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({
      id,
      leaseId: first.leaseId,
      templateId: 'sms-thanks',
      channel: 'sms',
      status: 'sent',
      createdBy: 'device:d0',
    });
    // A retry after it was sent answers its status now.
    const late = (await call(device, 'call:complete', {
      leaseId: first.leaseId,
      outcome: 'answered',
      durationSec: 12,
      followUp: { channel: 'sms', template: 'sms-thanks' },
    })) as unknown as Ack;
    expect(late.followUp).toMatchObject({ status: 'sent', followUpId: id });
  });

  it('two copies of one completion at once make one follow-up', async () => {
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const [offer] = await offered;
    const payload = {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 3,
      followUp: { channel: 'sms', template: 'sms-thanks' },
    };
    const acks = (await Promise.all([
      call(device, 'call:complete', payload),
      call(device, 'call:complete', payload),
    ])) as unknown as Ack[];
    expect(acks.map((a) => a.ok)).toEqual([true, true]);
    expect(acks[0]!.followUp?.followUpId).toMatch(/^\d+$/);
    expect(acks[1]!.followUp?.followUpId).toBe(acks[0]!.followUp?.followUpId);
    expect(await g.db.privacy.followups.list(T, { leadId: acks[0]!.leadId!, limit: 10 })).toHaveLength(1);
    await until(() => sms.length >= 2, 10_000);
  });

  it('a WhatsApp follow-up is handed over with its click-to-chat link', async () => {
    const { ack, phone, name } = await oneCall({
      outcome: 'answered',
      followUp: { channel: 'whatsapp', template: 'wa-thanks' },
    });
    expect(ack.followUp).toMatchObject({ status: 'handed_over', channel: 'whatsapp' });
    expect(ack.followUp!.link).toBe(
      `https://wa.me/${phone.slice(1)}?text=${encodeURIComponent(`Hello ${name}`)}`,
    );
  });

  it('a refused follow-up comes back with its code, and the outcome is saved', async () => {
    // The person asked not to be called: on the do-not-call list, no follow-up on any channel.
    const dnc = await oneCall({ outcome: 'dnc', followUp: { channel: 'sms', template: 'sms-thanks' } });
    expect(dnc.ack).toMatchObject({
      ok: true,
      followUp: { status: 'refused', channel: 'sms', code: 'NUMBER_SUPPRESSED', retryable: false },
    });
    const email = await oneCall({
      outcome: 'answered',
      followUp: { channel: 'email', template: 'sms-thanks' },
    });
    expect(email.ack).toMatchObject({ ok: true, followUp: { status: 'refused', code: 'INPUT_INVALID' } });
    const wrongChannel = await oneCall({
      outcome: 'answered',
      followUp: { channel: 'whatsapp', template: 'sms-thanks' },
    });
    expect(wrongChannel.ack).toMatchObject({
      ok: true,
      followUp: { status: 'refused', code: 'INPUT_INVALID' },
    });
    const unknown = await oneCall({ outcome: 'answered', followUp: { channel: 'sms', template: 'nope' } });
    expect(unknown.ack).toMatchObject({ ok: true, followUp: { status: 'refused', code: 'NOT_FOUND' } });
    for (const c of [dnc, email, wrongChannel, unknown]) {
      expect(await g.db.outcomes.lookupLeases(T, [c.leaseId]).then((m) => m.has(c.leaseId))).toBe(true);
      expect(await g.db.privacy.followups.list(T, { leadId: c.ack.leadId!, limit: 10 })).toEqual([]);
    }
    expect(sms).toHaveLength(2);
  });
});
