// A gateway stopped gracefully (a deploy, a scale-in) and started again at the same address, on
// the same Redis and Postgres: the wallboard's socket reconnects by itself, subscribes again as
// the page does on every connect, and is sent a fresh snapshot. A supervisor should never have to
// reload the page because a gateway restarted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { TEST_SECRET, TestGateway, until } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';
import { command, connectSupervisor, FloorWatcher, loginAs } from '../support/supervisor.js';
import type { SupervisorClient } from '../support/supervisor.js';

const T = 'restart-t';

describe('a wallboard across a gateway restart', () => {
  let store: TestStore;
  let pg: TestDatabase;
  let first: TestGateway | undefined;
  let second: TestGateway | undefined;
  let socket: SupervisorClient | undefined;

  beforeAll(async () => {
    store = await makeStore('redis', { newEpoch: undefined });
    pg = await createTestDatabase();
  });
  afterAll(async () => {
    socket?.disconnect();
    await first?.stop();
    await second?.stop();
    await store?.dispose();
    await pg?.dispose();
  });

  it('reconnects by itself to the gateway started in its place and gets a fresh snapshot', async () => {
    const supervisor = supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 200 });
    first = await TestGateway.start({ shared: { store, pg }, supervisor });
    await first.seedTenant(T, 2);
    await first.campaign(T, 'c1');
    const token = await loginAs(first.db, T, 'sup', 'supervisor');
    const s = await connectSupervisor(first.url, token, undefined, true);
    socket = s;
    const watcher = new FloorWatcher(s);
    // As the wallboard page does: subscribe on every connect, the first and each reconnect.
    let connects = 0;
    const subscribe = () => {
      connects++;
      void command(s, 'floor:subscribe', {});
    };
    s.on('connect', subscribe);
    subscribe();
    await until(() => watcher.snapshots === 1);

    const port = Number(new URL(first.url).port);
    await first.stop();
    first = undefined;
    second = await TestGateway.start({ shared: { store, pg }, supervisor, port });

    await until(() => connects === 2 && watcher.snapshots === 2, 10_000);
    expect(s.connected).toBe(true);
    expect([...watcher.agents.keys()]).toEqual(['a0', 'a1']);
  });
});
