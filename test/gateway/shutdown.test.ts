// Graceful stop (SIGTERM): take no new devices, give offered calls back to the queue, let calls in
// progress finish, and be gone within the shutdown timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { call, next, TestGateway } from '../support/gateway.js';

const T = 'drain';
const C = 'c1';

describe('graceful stop', () => {
  let g: TestGateway;
  let ref: CampaignRef;
  beforeAll(async () => {
    g = await TestGateway.start({ config: { SHUTDOWN_TIMEOUT_MS: '4000' } });
    await g.seedTenant(T, 3);
    ref = await g.campaign(T, C);
    await g.leads(T, C, 5);
  });
  afterAll(async () => {
    await g.stop();
  });

  it('releases offered calls, lets calls in progress finish, and stops in time', async () => {
    const busy = await g.connect(T, 0);
    const offeredBusy = next(busy, 'call:offer');
    await call(busy, 'agent:ready', { campaignId: C });
    const [inProgress, ackBusy] = await offeredBusy;
    ackBusy({ accept: true });
    await call(busy, 'call:status', { leaseId: inProgress.leaseId, status: 'connected' });

    const undecided = await g.connect(T, 1);
    const offeredUndecided = next(undecided, 'call:offer');
    await call(undecided, 'agent:ready', { campaignId: C });
    const [pending] = await offeredUndecided; // received, not yet acknowledged

    const revoked = next(undecided, 'call:revoked');
    const started = Date.now();
    const stopping = g.gateway.stop();
    expect((await revoked)[0]).toEqual({ leaseId: pending.leaseId, reason: 'shutdown' });
    // New devices are turned away while draining.
    await expect(g.connect(T, 2)).rejects.toMatchObject({ data: { code: 'UNAVAILABLE' } });
    // The call in progress still completes and is saved.
    const done = await call(busy, 'call:complete', {
      leaseId: inProgress.leaseId,
      outcome: 'answered',
      durationSec: 7,
    });
    expect(done).toMatchObject({ ok: true });
    await stopping;
    expect(Date.now() - started).toBeLessThan(4_000);
    const stats = await g.store.store.stats(ref, Date.now());
    expect(stats).toMatchObject({ ready: 4, leased: 0, readyAgents: 0 });
  });
});
