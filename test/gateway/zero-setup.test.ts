// Zero setup, end to end: the production bundle (`npm run build`, then what `npm start` runs:
// `node dist/main.js`, here built into a private folder) as its own process with neither REDIS_URL nor
// DATABASE_URL, so the in-memory queue and embedded Postgres in a fresh data folder. The demo
// device it prints takes a call; SIGTERM stops it cleanly; a second start on the same folder
// reuses the secrets (the old token still works) and rebuilds the queue from embedded Postgres,
// so the completed lead is not offered again.
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { DEMO_CAMPAIGN_CONFIG } from '../../gateway/demo-seed.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { loadSecrets } from '../../gateway/secrets.js';
import { call, next } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { freePort } from '../support/ports.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const STOP_LIMIT_MS = 10_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bundle under test, built once for this file (a private folder: dist/ may be in use). */
const BUILD_DIR = `.dist-test-${process.pid}`;

async function buildBundle(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/build.ts', '--outdir', BUILD_DIR], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`npm run build failed:\n${stderr}`);
}

/** One `node dist/main.js` process with a clean environment of our making. */
class Dialhub {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly startedAt = Date.now();
  private constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    child.stdout.on('data', (d: Buffer) => (this.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static spawn(env: Record<string, string>): Dialhub {
    const child = spawn(process.execPath, [`${BUILD_DIR}/main.js`], {
      cwd: ROOT,
      // Deliberately not inherited: no REDIS_URL, DATABASE_URL or secrets can leak in.
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Dialhub(child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Wait for a line of stdout matching `pattern`; fails early if the process dies. */
  async waitFor(pattern: RegExp, ms = START_TIMEOUT_MS): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = pattern.exec(this.stdout);
      if (m) return m;
      if (!this.running)
        throw new Error(`dialhub exited before printing ${pattern}:\n${this.stderr}\n${this.stdout}`);
      if (Date.now() > deadline)
        throw new Error(`no ${pattern} within ${ms} ms:\n${this.stderr}\n${this.stdout}`);
      await sleep(50);
    }
  }

  async stop(): Promise<{ code: number | null; ms: number }> {
    const t0 = Date.now();
    this.child.kill('SIGTERM');
    const timeout = sleep(STOP_LIMIT_MS + 2_000).then(() => ({ code: -1, signal: null }));
    const { code } = await Promise.race([this.exited, timeout]);
    return { code, ms: Date.now() - t0 };
  }
}

async function waitReady(url: string, ms = START_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url}/readyz not 200 within ${ms} ms`);
    await sleep(100);
  }
}

describe('zero setup: npm start with no Redis and no Postgres', () => {
  let dataDir: string;
  const running: Dialhub[] = [];
  const sockets: Device[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dialhub-zero-'));
    await buildBundle();
  }, 120_000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const d of running) if (d.running) d.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
    await rm(join(ROOT, BUILD_DIR), { recursive: true, force: true });
  });

  async function start(): Promise<{
    hub: Dialhub;
    url: string;
    tokens: Map<string, string>;
    readyMs: number;
  }> {
    const port = await freePort();
    const hub = Dialhub.spawn({ DATA_DIR: dataDir, PORT: String(port) });
    running.push(hub);
    const [, url] = await hub.waitFor(/dialhub is running at (http:\/\/\S+)/);
    await hub.waitFor(/device=phone2 token=\S+\n/);
    await waitReady(url!);
    const readyMs = Date.now() - hub.startedAt;
    const tokens = new Map<string, string>();
    for (const m of hub.stdout.matchAll(/device=(phone\d) token=(\S+)/g)) tokens.set(m[1]!, m[2]!);
    return { hub, url: url!, tokens, readyMs };
  }

  /** The demo owner, logged in with the password the banner printed. */
  async function admin(url: string, method: string, path: string, body?: unknown): Promise<unknown> {
    const printed = /owner: email=(\S+) password=(\S+)/.exec(running.at(-1)!.stdout);
    expect(printed, 'the banner prints the demo owner').not.toBeNull();
    const login = await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: 'demo', email: printed![1], password: printed![2] }),
    });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    expect(res.status, `${method} ${path}`).toBe(200);
    return res.json();
  }

  type Stats = { queue: { ready: number; leased: number }; leads: { queued: number; final: number } };
  const stats = (url: string) => admin(url, 'GET', '/tenants/demo/campaigns/demo/stats') as Promise<Stats>;

  async function demoDevice(url: string, token: string): Promise<Device> {
    const socket: Device = connect(`${url}${AGENT_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token, deviceId: 'phone1' },
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return socket;
  }

  it('starts, serves the demo device a call, stops on SIGTERM, and resumes from its data folder', async () => {
    // ---- first start: everything generated and seeded ----
    const first = await start();
    console.info(
      `zero-setup: first start ready in ${first.readyMs} ms (embedded Postgres created and seeded)`,
    );
    const secretsFile = await stat(join(dataDir, 'secrets.json'));
    expect(secretsFile.mode & 0o777).toBe(0o600);
    expect(first.hub.stdout).toContain(join(dataDir, 'secrets.json'));
    const secrets = await readFile(join(dataDir, 'secrets.json'), 'utf8');
    const { adminToken } = JSON.parse(secrets) as { adminToken: string };
    expect(first.hub.stdout).not.toContain(adminToken); // its location is printed, not its value
    const phone1Token = first.tokens.get('phone1')!;
    expect(phone1Token).toBeTruthy();

    // The seeded campaign calls 08:00-21:00 UK time; open it round the clock so the test does not
    // depend on the hour it runs at (the window change applies at once).
    await admin(first.url, 'PUT', '/tenants/demo/campaigns/demo', {
      name: 'Demo campaign',
      status: 'active',
      window: ALWAYS_OPEN,
      dispositions: DEMO_CAMPAIGN_CONFIG.dispositions,
    });
    expect(await stats(first.url)).toMatchObject({ queue: { ready: 50, leased: 0 }, leads: { queued: 50 } });

    const device = await demoDevice(first.url, phone1Token);
    const offered = next(device, 'call:offer');
    expect(await call(device, 'agent:ready', { campaignId: 'demo' })).toMatchObject({ ok: true });
    const [offer, reply] = await offered;
    reply({ accept: true });
    expect(offer.lead.phone).toMatch(/^\+447700900\d{3}$/);
    expect(offer.lead.timeZone).toBe('Europe/London');
    const done = await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'sale',
      durationSec: 95,
    });
    expect(done).toMatchObject({ ok: true, disposition: 'final', leadId: offer.lead.id });
    expect(await stats(first.url)).toMatchObject({
      queue: { ready: 49, leased: 0 },
      leads: { queued: 49, final: 1 },
    });

    const stopped = await first.hub.stop();
    console.info(`zero-setup: SIGTERM to exit in ${stopped.ms} ms`);
    expect(stopped.code).toBe(0);
    expect(stopped.ms).toBeLessThan(STOP_LIMIT_MS);
    device.disconnect();

    // ---- second start on the same folder ----
    const second = await start();
    console.info(`zero-setup: restart ready in ${second.readyMs} ms (queue rebuilt from embedded Postgres)`);
    expect(await readFile(join(dataDir, 'secrets.json'), 'utf8')).toBe(secrets); // reused, not regenerated
    expect(await stats(second.url)).toMatchObject({
      queue: { ready: 49, leased: 0 },
      leads: { queued: 49, final: 1 },
    });
    // The token printed by the first start still opens a session (the signing secret was kept),
    // and the next call is another lead.
    const again = await demoDevice(second.url, phone1Token);
    const offeredAgain = next(again, 'call:offer');
    expect(await call(again, 'agent:ready', { campaignId: 'demo' })).toMatchObject({ ok: true });
    const [nextOffer, replyAgain] = await offeredAgain;
    replyAgain({ accept: false });
    expect(nextOffer.lead.id).not.toBe(offer.lead.id);
    again.disconnect();

    const stoppedAgain = await second.hub.stop();
    expect(stoppedAgain.code).toBe(0);
    expect(stoppedAgain.ms).toBeLessThan(STOP_LIMIT_MS);
  }, 150_000);

  it('refuses to start with an invalid configuration, listing every problem, and exits 1', async () => {
    const hub = Dialhub.spawn({ DATA_DIR: dataDir, PORT: 'eighty', SHUTDOWN_TIMEOUT_MS: '5' });
    running.push(hub);
    const { code } = await hub.exited;
    expect(code).toBe(1);
    expect(hub.stderr).toContain('invalid configuration');
    expect(hub.stderr).toContain('PORT');
    expect(hub.stderr).toContain('SHUTDOWN_TIMEOUT_MS');
  }, 30_000);
});

describe('secrets of the zero-setup mode', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dialhub-secrets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates strong secrets once, owner-only, and reuses them on the next start', async () => {
    const DATA_DIR = join(dir, 'gen');
    const first = await loadSecrets({ DATA_DIR });
    expect(first.sources).toEqual({ deviceTokenSecret: 'file', adminToken: 'file' });
    expect(first.deviceTokenSecret).toMatch(/^[\w-]{43}$/);
    expect(first.adminToken).toMatch(/^[\w-]{43}$/);
    expect(first.adminToken).not.toBe(first.deviceTokenSecret);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    await chmod(first.file, 0o644);
    const second = await loadSecrets({ DATA_DIR });
    expect(second).toEqual(first);
    expect((await stat(first.file)).mode & 0o777).toBe(0o600); // tightened again
  });

  it('uses values from the environment as given and never writes them', async () => {
    const adminToken = 'admin-from-the-environment-0123';
    const DATA_DIR = join(dir, 'env');
    const some = await loadSecrets({ DATA_DIR, ADMIN_TOKEN: adminToken });
    expect(some).toMatchObject({ adminToken, sources: { adminToken: 'env', deviceTokenSecret: 'file' } });
    expect(await readFile(some.file, 'utf8')).not.toContain(adminToken);
    const deviceTokenSecret = 'device-secret-from-the-environment-0123';
    const all = await loadSecrets({
      DATA_DIR: join(dir, 'none'),
      ADMIN_TOKEN: adminToken,
      DEVICE_TOKEN_SECRET: deviceTokenSecret,
    });
    expect(all).toMatchObject({ adminToken, deviceTokenSecret });
    await expect(stat(all.file)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives processes starting at the same moment the same secrets', async () => {
    const DATA_DIR = join(dir, 'race');
    const all = await Promise.all(Array.from({ length: 6 }, () => loadSecrets({ DATA_DIR })));
    const stored = JSON.parse(await readFile(all[0]!.file, 'utf8')) as Record<string, string>;
    for (const s of all) expect(s).toMatchObject(stored);
  });

  it('refuses a malformed secrets file without printing what it holds', async () => {
    const DATA_DIR = join(dir, 'bad');
    const { file } = await loadSecrets({ DATA_DIR });
    await writeFile(file, JSON.stringify({ adminToken: 'too-short-secret' }));
    const err = (await loadSecrets({ DATA_DIR }).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(file);
    expect(err.message).toContain('adminToken');
    expect(err.message).not.toContain('too-short-secret');
  });
});
