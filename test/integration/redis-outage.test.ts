// A Redis that stops answering, or goes away, fails the store's commands within the command
// timeout instead of queueing them without bound, and the failure maps to the retryable
// UNAVAILABLE a device is answered with. A private redis-server (this file's own, killed at the
// end) plays the outage; the shared one is never touched.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { campaignRef } from '../../engine/ids.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { toWireError } from '../../gateway/errors.js';
import { freePort } from '../support/ports.js';

describe('a Redis outage', () => {
  let dir: string;
  let port: number;
  let server: ChildProcess;
  let store: RedisQueueStore;
  const ref = campaignRef('acme', 'outage');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dialhub-redis-'));
    port = await freePort();
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      {
        stdio: 'ignore',
        detached: true,
      },
    );
    const probe = createClient({ url: `redis://127.0.0.1:${port}` });
    probe.on('error', () => undefined);
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        break;
      } catch (err) {
        if (i > 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await probe.close();
    store = await createRedisQueueStore({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 500 });
    await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), Date.now());
  });

  afterAll(async () => {
    await store?.close().catch(() => undefined);
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a command the server does not answer within the timeout, as UNAVAILABLE', async () => {
    const admin = createClient({ url: `redis://127.0.0.1:${port}` });
    await admin.connect();
    try {
      await admin.sendCommand(['CLIENT', 'PAUSE', '2000', 'ALL']); // the server stops answering
      await new Promise((r) => setTimeout(r, 50));
      const started = Date.now();
      const err = await store.stats(ref, Date.now()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).not.toBeNull();
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(toWireError(err)).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    } finally {
      await new Promise((r) => setTimeout(r, 2_100));
      await admin.close();
    }
  });

  it('fails commands at once while the server is gone, rather than queueing them', async () => {
    process.kill(-server.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const err = await store.stats(ref, Date.now()).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).not.toBeNull();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(toWireError(err)).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
