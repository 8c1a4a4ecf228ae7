// The floor aimed at a dialhub the bench did not start (`--url --token`), as a load tester aims it
// at staging: it sets itself up through the admin API under its own tenant, runs, and retires its
// campaign at the end. The "remote" here is a gateway with its HTTP API in this test's process.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../engine/clock.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { loadConfig } from '../../gateway/config.js';
import { createGateway } from '../../gateway/gateway.js';
import type { Gateway } from '../../gateway/gateway.js';
import { createHttpApp } from '../../gateway/http/app.js';
import { silentLogger } from '../../gateway/logger.js';
import { TEST_SECRET } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import type { TestDatabase } from '../support/postgres.js';
import { makeStore } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';
import { bench, endBenchRuns } from './run-bench.js';

const ADMIN_TOKEN = `bench-remote-${randomBytes(12).toString('hex')}`;

let store: TestStore;
let pg: TestDatabase;
let gateway: Gateway;
let url: string;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-remote-'));
  store = await makeStore('redis');
  pg = await createTestDatabase();
  const tokens = createDeviceTokens(TEST_SECRET);
  gateway = createGateway({
    config: loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' }),
    store: store.store,
    clock: systemClock,
    db: pg.db,
    logger: silentLogger,
    tokens,
    http: (g) =>
      createHttpApp(g, { adminToken: ADMIN_TOKEN, logger: silentLogger, tokens, serverSecret: TEST_SECRET }),
  });
  const address = await gateway.start(0, '127.0.0.1');
  url = `http://127.0.0.1:${address.port}`;
});

afterEach(endBenchRuns);

afterAll(async () => {
  await gateway?.stop();
  await store?.dispose();
  await pg?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe('floor --url', () => {
  it(
    'runs against a dialhub it did not start, through its admin API, and archives its campaign',
    { timeout: 240_000 },
    async () => {
      const tenant = `br${randomBytes(3).toString('hex')}`;
      const json = join(dir, 'remote.json');
      const r = await bench(
        'floor',
        '--quick',
        '--agents',
        '4',
        '--duration',
        '3',
        '--pace',
        '20',
        '--url',
        url,
        '--token',
        ADMIN_TOKEN,
        '--tenant',
        tenant,
        '--json',
        json,
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as {
        floor: { metrics: Record<string, number | null>; config: Record<string, unknown> };
      };
      expect(doc.floor.config['remote']).toBe(true);
      expect(doc.floor.metrics['calls']).toBeGreaterThan(0);
      expect(doc.floor.metrics['errors']).toBe(0);
      // Not ours to measure on a remote dialhub.
      expect(doc.floor.metrics['gateway_cpu_cores']).toBeNull();
      // Its own tenant on the target; when done, its campaign retired and its agents (with
      // their devices) deleted, so no token of the run stays valid there.
      expect((await pg.db.campaigns.get(tenant, 'floor'))?.status).toBe('archived');
      expect(await pg.db.users.get(tenant, 'fa0')).toBeUndefined();
      expect((await pg.db.devices.list(tenant, { limit: 10, revoked: true })).items).toEqual([]);
      // It worked as the owner it created, not with the operator token.
      expect((await pg.db.users.get(tenant, 'bench-owner'))?.role).toBe('owner');
    },
  );

  it(
    'a wrong credential fails the run with the API error, before any agent connects',
    { timeout: 120_000 },
    async () => {
      const r = await bench(
        'floor',
        '--quick',
        '--agents',
        '2',
        '--duration',
        '1',
        '--url',
        url,
        '--token',
        'not-the-admin-token-000000',
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/401|UNAUTHORIZED|unauthori/i);
      expect(r.stderr).not.toContain('floor worker');
    },
  );
});
