// The dashboard in real Chromium against a real gateway (real Redis, real Postgres): a supervisor
// logs in, watches an agent's tile go through its states as the device acts, force-pauses it from
// the wallboard (the device is told), sees the badge turn stale when the server stops; an agent
// takes and completes a call in the browser console with the campaign's own outcome codes,
// reloading the page mid-call. Screenshots of each page are saved as artifacts.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../gateway/auth/passwords.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { createHttpApp } from '../../gateway/http/app.js';
import { silentLogger } from '../../gateway/logger.js';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { artifact, launchWithPage, logIn } from '../support/browser.js';
import { call, next, TEST_SECRET, TestGateway } from '../support/gateway.js';
import type { Device, TestGatewayOptions } from '../support/gateway.js';
import { TEST_PASSWORD } from '../support/supervisor.js';

const T = 'web';
const C = 'sales';
const C2 = 'desk';
const AGENTS = 200;

const tile = (agent: string, state: string) => `[data-agent="${agent}"][data-state="${state}"]`;

describe('the dashboard in Chromium', { timeout: 90_000 }, () => {
  let gw: TestGateway;
  let browser: Browser;
  let page: Page;
  let stopped = false;
  const devices: Device[] = [];

  /** A gateway started again where the first one stopped (same address, Redis and Postgres). */
  let restarted: TestGateway | undefined;
  const start = (options: Pick<TestGatewayOptions, 'shared' | 'port'> = {}) =>
    TestGateway.start({
      supervisor: supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 500 }),
      http: (g) =>
        createHttpApp(g, {
          adminToken: 'admin-token-for-tests-0123456789',
          logger: silentLogger,
          tokens: createDeviceTokens(TEST_SECRET),
          serverSecret: TEST_SECRET,
        }),
      ...options,
    });

  beforeAll(async () => {
    gw = await start();
    await gw.seedTenant(T, AGENTS);
    await gw.db.users.create({
      tenantId: T,
      id: 'sue',
      name: 'Sue Pervisor',
      role: 'supervisor',
      email: 'sue@web.test',
      passwordHash: await hashPassword(TEST_PASSWORD),
    });
    const own = { sale: { final: true, contact: true }, not_interested: { final: true } };
    await gw.campaign(T, C, { dispositions: own });
    await gw.campaign(T, C2, { dispositions: own });
    ({ browser, page } = await launchWithPage({ viewport: { width: 1920, height: 1080 } }));
  }, 120_000);

  afterAll(async () => {
    for (const d of devices) d.disconnect();
    await browser?.close();
    await restarted?.stop();
    if (!stopped) await gw?.stop();
    else await Promise.all([gw.store.dispose(), gw.pg.dispose()]);
  });

  it('logs a supervisor in and shows every agent', async () => {
    await logIn(page, gw.url, T, 'sue@web.test');
    await page.waitForSelector('.agent');
    await expect.poll(() => page.locator('.agent').count()).toBe(AGENTS);
    await page.waitForSelector('#badge.live');
    expect(await page.locator('[data-campaign]').count()).toBe(2);
  });

  it('shows a live tile change state as the device acts', async () => {
    const device = await gw.connect(T, 0);
    devices.push(device);
    await page.waitForSelector(tile('a0', 'paused'));
    expect(await page.locator('[data-agent="a0"] .state').textContent()).toContain('paused: login');
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    await page.waitForSelector(tile('a0', 'ready'));
    const offered = next(device, 'call:offer');
    await gw.leads(T, C, 1);
    const [offer, ack] = await offered;
    await page.waitForSelector(tile('a0', 'offered'));
    expect(await page.locator('[data-agent="a0"] .meta').textContent()).toContain('with Lead');
    ack({ accept: true });
    await page.waitForSelector(tile('a0', 'dialing'));
    await call(device, 'call:status', { leaseId: offer.leaseId, status: 'connected' });
    await page.waitForSelector(tile('a0', 'on_call'));
    await call(device, 'call:status', { leaseId: offer.leaseId, status: 'ended' });
    await page.waitForSelector(tile('a0', 'wrap_up'));
    await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'sale', durationSec: 30 });
    // The campaign tile counts it.
    await expect
      .poll(() => page.locator('[data-campaign="sales"] .figures div:nth-child(5) dd').textContent())
      .toBe('1');
  });

  it('force-pauses an agent from the wallboard, and the device is told', async () => {
    const device = devices[0]!;
    const told = next(device, 'agent:state');
    await page.click('[data-agent="a0"] .act-pause');
    await page.fill('#pause-form input[name=reason]', 'coaching');
    await page.click('#pause-ok');
    expect((await told)[0]).toMatchObject({ state: 'paused', reason: 'coaching' });
    await page.waitForSelector(tile('a0', 'paused'));
    expect(await page.locator('[data-agent="a0"] .state').textContent()).toContain('paused: coaching');
    const [entry] = await gw.db.audit.list(T, { limit: 1 });
    expect(entry).toMatchObject({ actor: 'sue', action: 'agent.force_pause', subject: 'a0' });
  });

  it('is readable with 200 agents in mixed states (screenshots)', async () => {
    await gw.leads(T, C, 30, 100);
    const reasons = ['lunch', 'training', 'break', 'meeting'];
    const work: Promise<unknown>[] = [];
    for (let i = 1; i <= 120; i++) {
      work.push(
        (async () => {
          const d = await gw.connect(T, i);
          devices.push(d);
          if (i % 3 === 0) return call(d, 'agent:pause', { reason: reasons[i % reasons.length]! });
          d.on('call:offer', (o, ack) => {
            if (i % 4 === 0) return ack({});
            ack({ accept: true });
            if (i % 5 !== 0) void call(d, 'call:status', { leaseId: o.leaseId, status: 'connected' });
            if (i % 7 === 0) void call(d, 'call:status', { leaseId: o.leaseId, status: 'ended' });
          });
          return call(d, 'agent:ready', { campaignId: i % 2 === 0 ? C : C2 });
        })(),
      );
    }
    await Promise.all(work);
    await page.waitForSelector('[data-state="on_call"]');
    await page.waitForSelector('[data-state="wrap_up"]');
    await page.waitForTimeout(1_500);
    await page.screenshot({ path: artifact('wallboard-1920x1080.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: artifact('wallboard-1280x720.png') });
    const tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    // Same browser context storage is per page here: log in again through the form.
    await logIn(tv, `${gw.url}/?tv=1`, T, 'sue@web.test');
    await tv.waitForSelector('#badge.live');
    expect(await tv.locator('.agent .actions').count()).toBe(0);
    await tv.screenshot({ path: artifact('wallboard-tv-1920x1080.png') });
    await tv.close();
    // Filters are kept in the URL.
    await page.selectOption('#filter-state', 'paused');
    try {
      expect(page.url()).toContain('state=paused');
      // Both counts from one look at the page: agents still change state (offers time out,
      // calls end), and two separate counts once straddled a re-render that added a tile.
      const [shown, paused] = await page.$$eval('.agent', (tiles) => [
        tiles.length,
        tiles.filter((t) => (t as unknown as { dataset: { state?: string } }).dataset.state === 'paused')
          .length,
      ]);
      expect(shown).toBeGreaterThan(0);
      expect(paused).toBe(shown);
    } finally {
      // Unfiltered again for the tests after this one, even when it fails.
      await page.selectOption('#filter-state', '');
    }
  });

  it('takes and completes a call in the agent console, reloading mid-call', async () => {
    // The crowd of the screenshot goes home: the console's agent is the one ready for the next lead.
    for (const d of devices.splice(1)) d.disconnect();
    const agent = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await agent.goto(`${gw.url}/console`);
    await agent.fill('input[name=deviceId]', 'd199');
    await agent.fill('input[name=token]', await gw.token(T, 199));
    await agent.click('#login-form button[type=submit]');
    await agent.waitForSelector('#badge.live');
    await agent.selectOption('#campaign', C2);
    await agent.click('#ready');
    await agent.waitForSelector('#state.state-ready');
    await gw.leads(T, C2, 1, 500);
    await agent.waitForSelector('#offer:not([hidden])', { timeout: 8_000 }).catch(async (err: unknown) => {
      await agent.screenshot({ path: artifact('console-debug.png') });
      throw err;
    });
    // The campaign's own codes, not a fixed list.
    const codes = await agent
      .locator('#outcomes input')
      .evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));
    expect(codes).toEqual(expect.arrayContaining(['sale', 'not_interested', 'no_answer', 'callback']));
    expect(await agent.locator('#lead-phone').getAttribute('href')).toMatch(/^tel:\+44/);
    await agent.click('#accept');
    await agent.waitForSelector('#state.state-dialing');
    await agent.click('[data-status="connected"]');
    await agent.waitForSelector('#state.state-on_call');
    const leaseId = await agent.evaluate(() => {
      const storage = (globalThis as unknown as { localStorage: { getItem(k: string): string | null } })
        .localStorage;
      return (JSON.parse(storage.getItem('dialhub.call') ?? '{}') as { leaseId?: string }).leaseId;
    });
    expect(leaseId).toBeTruthy();

    // A reload drops the connection: the console reconnects and resumes the same call.
    await agent.reload();
    await agent.waitForSelector('#state.state-on_call');
    await agent.waitForSelector('#offer:not([hidden])');
    await agent.click('[data-status="ended"]');
    await agent.waitForSelector('#state.state-wrap_up');
    await agent.check('#outcomes input[value="sale"]');
    await agent.fill('textarea[name=notes]', 'bought the lot');
    await agent.screenshot({ path: artifact('console-1280x720.png') });
    await agent.click('#outcome-form button[type=submit]');
    await agent.waitForSelector('#offer[hidden]', { state: 'attached' });
    await expect
      .poll(async () =>
        gw.db
          .knex('call_attempts')
          .where({ tenant_id: T, lease_id: leaseId })
          .select('outcome', 'agent_id', 'notes'),
      )
      .toEqual([{ outcome: 'sale', agent_id: 'a199', notes: 'bought the lot' }]);
    await agent.close();
  });

  it('turns the freshness badge stale when the server stops', async () => {
    await page.waitForSelector('#badge.live');
    stopped = true;
    for (const d of devices) d.disconnect();
    await gw.gateway.stop();
    await page.waitForSelector('#badge.stale', { timeout: 10_000 });
    expect(await page.locator('#badge').textContent()).toContain('stale');
    expect(await page.locator('body.stale').count()).toBe(1);
    await page.screenshot({ path: artifact('wallboard-stale.png') });
  });

  it('comes back live by itself, with a fresh snapshot, when a gateway starts again at its address', async () => {
    expect(stopped).toBe(true);
    restarted = await start({ shared: { store: gw.store, pg: gw.pg }, port: Number(new URL(gw.url).port) });
    // No reload: the page's socket reconnects, subscribes again and is sent a new snapshot.
    await page.waitForSelector('#badge.live', { timeout: 15_000 });
    await expect.poll(() => page.locator('.agent').count()).toBe(AGENTS);
    expect(await page.locator('body.stale').count()).toBe(0);
    // And it follows the new gateway's floor: a device logging in there shows at once.
    devices.push(await restarted.connect(T, 5));
    await page.waitForSelector(tile('a5', 'paused'));
    await page.screenshot({ path: artifact('wallboard-after-restart.png') });
  });
});
