// Erasure that erases: after a data subject's erasure a search for the number (and the name)
// finds 0 matches in every table of the schema and every Redis key under the deployment's prefix,
// including the Socket.IO adapter's stream; a call in progress is revoked and keeps nothing; only
// a keyed hash stays, and it keeps the number out of later imports.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asTenantId } from '../../engine/ids.js';
import { silentLogger } from '../../gateway/logger.js';
import { createRights } from '../../gateway/privacy/rights.js';
import type { Rights } from '../../gateway/privacy/rights.js';
import { adapterStreamName, createStreamSweeper } from '../../gateway/privacy/stream-sweep.js';
import { call, next, TestGateway, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { rowsHolding } from '../support/postgres-scan.js';
import { redisKeysHolding } from '../support/redis-scan.js';
import { makeStore, REDIS_URL } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const T = 'priv';
const TID = asTenantId(T);
const NUMBER = '+447700900777';
const DIGITS = NUMBER.slice(1);
const NAME = 'Zebediah Quux';
const OTHER = '+447700900555';

describe('erasure removes a number from Postgres, Redis and the adapter stream', () => {
  let store: TestStore;
  let pgdb: TestDatabase;
  let a: TestGateway;
  let b: TestGateway;
  let rights: Rights;
  const clients: ReturnType<typeof createClient>[] = [];
  let stream = '';

  beforeAll(async () => {
    store = await makeStore('redis');
    pgdb = await createTestDatabase();
    stream = adapterStreamName(store.prefix);
    const adapter = async () => {
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      clients.push(client);
      return createAdapter(client, {
        streamName: stream,
        channelPrefix: stream,
        sessionKeyPrefix: `${stream}:s:`,
      });
    };
    a = await TestGateway.start({ shared: { store, pg: pgdb }, adapter: await adapter() });
    b = await TestGateway.start({ shared: { store, pg: pgdb }, adapter: await adapter() });
    const sweepClient = createClient({ url: REDIS_URL });
    await sweepClient.connect();
    clients.push(sweepClient);
    rights = createRights(a.gateway, createStreamSweeper(sweepClient, [stream], silentLogger));
    await a.seedTenant(T, 3);
    for (const c of ['c1', 'c2']) {
      const ref = await a.campaign(T, c);
      await b.gateway.campaigns.define(ref, (await a.db.campaigns.get(T, c))!.config);
    }
  });
  afterAll(async () => {
    await b.stop();
    await a.stop();
    for (const c of clients) await c.close();
    await store.dispose();
    await pgdb.dispose();
  });

  /** Ready the device on `campaignId` with nothing queued, add the lead through the other gateway. */
  async function offerAcross(
    device: Device,
    via: TestGateway,
    campaignId: string,
    phone: string,
    name: string,
  ) {
    expect(await call(device, 'agent:ready', { campaignId })).toMatchObject({ ok: true });
    const offered = next(device, 'call:offer');
    await via.gateway.addLeads(TID, campaignId, [{ phone, name, timeZone: 'Europe/London' }]);
    const [offer, ack] = await offered;
    ack({ accept: true });
    return offer;
  }

  it('an offer crossing to another gateway reaches the device whole and leaves nothing in the adapter stream', async () => {
    const device = await a.connect(T, 2);
    const offer = await offerAcross(device, b, 'c1', OTHER, 'Other Person');
    expect(offer.lead).toMatchObject({ phone: OTHER, name: 'Other Person' });
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 3 }),
    ).toMatchObject({ ok: true });
    // The adapter sends server-side emits over PUB/SUB, which keeps nothing; its stream (kept
    // for broadcasts and connection-state recovery) must not hold the lead either.
    expect(await redisKeysHolding([OTHER.slice(1), 'Other Person'], `${stream}*`)).toEqual([]);
  });

  it('leaves 0 matches in every table and key, revokes the call in progress, and refuses the number at import', async () => {
    // c1: a finished call with notes quoting the number and a callback pending.
    const d0 = await a.connect(T, 0);
    const first = await offerAcross(d0, b, 'c1', NUMBER, NAME);
    expect(first.lead).toMatchObject({ phone: NUMBER, name: NAME });
    const done = await call(d0, 'call:complete', {
      leaseId: first.leaseId,
      outcome: 'callback',
      durationSec: 20,
      notes: `${NAME} asked to be rung back on ${NUMBER}`,
      callback: { at: Date.now() + 3_600_000, scope: 'anyone' },
    });
    expect(done).toMatchObject({ ok: true });
    // c2: the same person is on a call right now, through the other gateway.
    const d1 = await b.connect(T, 1);
    const live = await offerAcross(d1, a, 'c2', NUMBER, NAME);
    // An entry an older version wrote to the adapter's stream with the number in it.
    await clients[0]!.xAdd(stream, '*', { legacy: JSON.stringify({ phone: NUMBER, name: NAME }) });
    // Another lead's notes quote the number, and an audit entry does too.
    await a.db.audit.append({ tenantId: T, actor: 'boss', action: 'note.test', subject: NUMBER });
    expect((await rowsHolding(pgdb, [DIGITS])).length).toBeGreaterThan(0);
    expect(await redisKeysHolding([DIGITS], `${store.prefix}*`)).not.toEqual([]);

    const revoked = next(d1, 'call:revoked');
    const result = await rights.erase(TID, NUMBER, { actor: 'boss', now: Date.now() });
    expect(result).toMatchObject({ leads: 2, attempts: 1, callbacks: 1, leasesRevoked: 1 });
    expect(result.streamEntries).toBeGreaterThanOrEqual(1);
    expect(result.request).toMatchObject({ kind: 'erasure', status: 'completed' });
    expect((await revoked)[0]).toEqual({ leaseId: live.leaseId, reason: 'removed' });

    // The outcome of the revoked call is refused: nothing of it is stored.
    const late = await call(d1, 'call:complete', {
      leaseId: live.leaseId,
      outcome: 'answered',
      durationSec: 5,
      notes: `spoke to ${NAME} on ${NUMBER}`,
    });
    expect(late).toMatchObject({ ok: false });

    expect(await rowsHolding(pgdb, [DIGITS, NAME])).toEqual([]);
    expect(await redisKeysHolding([DIGITS, NAME], `${store.prefix}*`)).toEqual([]);

    // The keyed hash keeps the number out: an import refuses it, in any campaign.
    const again = await a.gateway.addLeads(TID, 'c1', [
      { phone: NUMBER, name: NAME, timeZone: 'Europe/London' },
    ]);
    expect(again).toMatchObject({ inserted: 0, queued: 0, suppressed: 1 });
    expect(await a.db.privacy.suppressions.isSuppressed(T, NUMBER)).toBe(true);
    expect(await rowsHolding(pgdb, [DIGITS, NAME])).toEqual([]);

    // The agent whose call was taken is routed again.
    await until(async () => (await call(d1, 'agent:ready', { campaignId: 'c2' })).ok === true);
    const offered = next(d1, 'call:offer');
    await a.gateway.addLeads(TID, 'c2', [
      { phone: '+447700900556', name: 'Next Person', timeZone: 'Europe/London' },
    ]);
    expect((await offered)[0].lead.phone).toBe('+447700900556');
  });

  it('erases a number on the do-not-call list: the list row goes, the hash keeps it suppressed', async () => {
    const listed = '+447700900888';
    await a.gateway.suppress(TID, [listed], 'api');
    expect(await a.db.dnc.has(T, listed)).toBe(true);
    const result = await rights.erase(TID, listed, { actor: 'boss', now: Date.now() });
    expect(result).toMatchObject({ leads: 0, dncEntries: 1 });
    expect(await a.db.dnc.has(T, listed)).toBe(false);
    expect(await rowsHolding(pgdb, [listed.slice(1)])).toEqual([]);
    expect(await redisKeysHolding([listed.slice(1)], `${store.prefix}*`)).toEqual([]);
    expect(
      await a.gateway.addLeads(TID, 'c2', [{ phone: listed, name: 'X', timeZone: 'Europe/London' }]),
    ).toMatchObject({ queued: 0, suppressed: 1 });
  });

  it("is tenant-scoped: erasing in one tenant leaves another tenant's lead with the same number", async () => {
    await a.seedTenant('neighbour', 1);
    await a.campaign('neighbour', 'n1');
    const shared = '+447700900999';
    await a.gateway.addLeads(asTenantId('neighbour'), 'n1', [
      { phone: shared, name: 'Kept', timeZone: 'Europe/London' },
    ]);
    await a.gateway.addLeads(TID, 'c1', [{ phone: shared, name: 'Gone', timeZone: 'Europe/London' }]);
    await rights.erase(TID, shared, { actor: 'boss', now: Date.now() });
    expect(await a.db.privacy.suppressions.isSuppressed('neighbour', shared)).toBe(false);
    const kept = await rowsHolding(pgdb, [shared]);
    expect(kept).toHaveLength(1);
    expect(kept[0]).toContain('neighbour');
    expect(kept[0]).toContain('Kept');
  });
});
