// Two gateways on one Redis (Socket.IO streams adapter): a supervisor connected to one gateway
// sees the agents connected to the other, in its first snapshot and in every change after it,
// and its force-pause reaches a device on the other gateway.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { sharedAdapter } from '../support/adapter.js';
import { call, next, TEST_SECRET, TestGateway } from '../support/gateway.js';
import { command, connectSupervisor, FloorWatcher, loginAs } from '../support/supervisor.js';

const T = 'sup-cluster';
const C = 'c1';

describe('the floor across two gateways', () => {
  let a: TestGateway;
  let b: TestGateway;
  const shared = sharedAdapter('sup-cluster');

  beforeAll(async () => {
    const supervisor = supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 300 });
    a = await TestGateway.start({ adapter: await shared.adapter(), supervisor });
    b = await TestGateway.start({
      shared: { store: a.store, pg: a.pg },
      adapter: await shared.adapter(),
      supervisor,
    });
    await a.seedTenant(T, 2);
    const ref = await a.campaign(T, C);
    await b.gateway.campaigns.define(ref, (await a.db.campaigns.get(T, C))!.config);
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await shared.close();
  });

  it('shows agents connected to the other gateway, snapshot and deltas, and acts on them', async () => {
    const early = await a.connect(T, 0);
    expect(await call(early, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });

    const sup = new FloorWatcher(await connectSupervisor(b.url, await loginAs(a.db, T, 'sup', 'supervisor')));
    try {
      expect(await command(sup.socket, 'floor:subscribe', {})).toMatchObject({ ok: true });
      await sup.until((w) => w.snapshots === 1);
      // Connected to A before the supervisor subscribed on B: in the snapshot.
      expect(sup.agents.get('a0')).toMatchObject({ state: 'ready', campaignId: C });

      const late = await a.connect(T, 1);
      await sup.until((w) => w.state('a1') === 'paused');
      expect(await call(late, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
      await sup.until((w) => w.state('a1') === 'ready');

      const told = next(late, 'agent:state');
      expect(await command(sup.socket, 'agent:force_pause', { agentId: 'a1', reason: 'meeting' })).toEqual({
        ok: true,
        found: true,
      });
      expect((await told)[0]).toMatchObject({ state: 'paused', reason: 'meeting' });
      await sup.until((w) => w.agents.get('a1')?.reason === 'meeting');
      expect(sup.seqs).toEqual(sup.seqs.map((_, i) => i + 1));
    } finally {
      sup.socket.disconnect();
    }
  });
});
