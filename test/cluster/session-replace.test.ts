// One live session per agent across gateways: a session replaced from another gateway never takes
// the newer session out of routing. The race: the older session's agent:ready is still on its way
// to the queue when a newer session of the same agent connects elsewhere and becomes ready; the
// older ready then lands, and the older session's disconnect would remove the ready flag.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueStore } from '../../engine/queue-store.js';
import { sharedAdapter } from '../support/adapter.js';
import { call, next, TestGateway, until } from '../support/gateway.js';

const T = 'replace-x';
const C = 'c1';

/** The store, with readyAndDispatch held at a gate while it is closed. */
function gated(store: QueueStore): {
  store: QueueStore;
  close(): void;
  open(): void;
  /** Every call held at the gate, settled. */
  landed(): Promise<void>;
} {
  let gate: Promise<void> | null = null;
  const held: Promise<void>[] = [];
  let release = () => undefined as void;
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'readyAndDispatch') {
        return async (...args: Parameters<QueueStore['readyAndDispatch']>) => {
          if (!gate) return target.readyAndDispatch(...args);
          await gate;
          const landed = target.readyAndDispatch(...args);
          held.push(
            landed.then(
              () => undefined,
              () => undefined,
            ),
          );
          return landed;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store: proxy,
    close() {
      gate = new Promise<void>((r) => (release = r));
    },
    open() {
      release();
      gate = null;
    },
    async landed() {
      await Promise.all(held);
    },
  };
}

describe('a session replaced from another gateway', () => {
  let a: TestGateway;
  let b: TestGateway;
  let gate: ReturnType<typeof gated>;
  const shared = sharedAdapter('session-replace');

  beforeAll(async () => {
    b = await TestGateway.start({ adapter: await shared.adapter() });
    gate = gated(b.store.store);
    a = await TestGateway.start({
      shared: { store: { ...b.store, store: gate.store }, pg: b.pg },
      adapter: await shared.adapter(),
    });
    await b.seedTenant(T, 1);
    const ref = await b.campaign(T, C);
    await a.gateway.campaigns.define(ref, (await b.db.campaigns.get(T, C))!.config);
  });
  afterAll(async () => {
    gate?.open();
    await a?.stop();
    await b?.stop();
    await shared.close();
  });

  it("never removes the newer session's ready flag, whatever order the two readies land in", async () => {
    const older = await a.connect(T, 0);
    gate.close();
    // The older session's ready is held on its way to the queue.
    void call(older, 'agent:ready', { campaignId: C }).catch(() => null);
    await new Promise((r) => setTimeout(r, 100));

    const replaced = next(older, 'session:replaced');
    const newer = await b.connect(T, 0);
    const newerReady = call(newer, 'agent:ready', { campaignId: C });
    // Whatever gateway B does meanwhile, the older ready lands only now.
    setTimeout(() => gate.open(), 300);
    expect((await replaced)[0]).toEqual({ reason: 'newer_session' });
    expect(await newerReady).toMatchObject({ ok: true, state: { state: 'ready' } });
    // The held ready has landed, and the older session has gone through its disconnect.
    await until(async () => {
      await gate.landed();
      return a.gateway.hub.sessions.size === 0;
    });
    await new Promise((r) => setTimeout(r, 200));

    // The newer session is still in routing: a lead that arrives now is offered to it.
    const offered = next(newer, 'call:offer', 3_000);
    await b.leads(T, C, 1);
    const [offer] = await offered;
    expect(offer.campaign.id).toBe(C);
  });
});
