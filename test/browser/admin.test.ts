// The admin pages in real Chromium against a real gateway (real Redis, real Postgres): an owner
// creates a campaign with the form (a bad calling window is refused before anything is sent),
// pauses and resumes it, adds a user, registers a device (its token shown once), renames and
// revokes it, creates an API key and a TV link (shown once), sets the wallboard's time zone, and
// opens the TV link in a second tab (the wallboard with no login) that says so when the link is
// revoked. An agent sees no admin page. Screenshots go to test/browser/artifacts/.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../gateway/auth/passwords.js';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';
import { artifact, launchWithPage, logIn } from '../support/browser.js';
import { TEST_SECRET } from '../support/gateway.js';

const T = 'adm';

describe('the admin pages in Chromium', { timeout: 90_000 }, () => {
  let gw: AdminGateway;
  let browser: Browser;
  let page: Page;

  const login = (p: Page, email: string) => logIn(p, `${gw.url}/admin`, T, email);
  const status = () => page.locator('#status').textContent();
  /** Open a section and wait until it has rendered (its forms, not the previous section's). */
  const open = async (section: string, title: string) => {
    await page.click(`#nav button[data-section=${section}]`);
    await page.waitForSelector(`#section-title:text-is("${title}")`);
    await page.waitForSelector('form.admin-form');
  };

  beforeAll(async () => {
    gw = await AdminGateway.start({
      supervisor: supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 300 }),
    });
    await gw.seedTenant(T, [
      { id: 'boss', role: 'owner' },
      { id: 'ann', role: 'agent' },
    ]);
    for (let i = 0; i < 6; i++) {
      await gw.db.users.create({ tenantId: T, id: `ag${i}`, name: `Agent ${i}`, role: 'agent' });
    }
    await gw.db.users.create({
      tenantId: T,
      id: 'zed',
      name: 'Zed',
      role: 'agent',
      email: 'zed@adm.test',
      passwordHash: await hashPassword(TEST_PASSWORD),
    });
    ({ browser, page } = await launchWithPage({ viewport: { width: 1280, height: 900 } }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('shows an agent no admin page', async () => {
    const p = await browser.newPage();
    await login(p, 'zed@adm.test');
    await p.waitForSelector('#refused:not([hidden])');
    expect(await p.locator('#nav').isHidden()).toBe(true);
    expect(await p.locator('#page').textContent()).toBe('');
    await p.close();
  });

  it('creates a campaign with the form, refusing a bad window before sending, then pauses and resumes it', async () => {
    await login(page, `boss@${T}.test`);
    await page.waitForSelector('#nav button[data-section=campaigns]');
    const form = page.locator('form.admin-form').first();
    await form.locator('input[name=id]').fill('spring');
    await form.locator('input[name=name]').fill('Spring sale');
    await form.locator('input[name=from]').fill('20:00');
    await form.locator('input[name=to]').fill('09:00');
    await form.locator('button[type=submit]').click();
    await expect.poll(status).toContain('from must be before to');
    expect(await gw.db.campaigns.get(T, 'spring')).toBeUndefined();

    await form.locator('input[name=from]').fill('09:00');
    await form.locator('input[name=to]').fill('20:00');
    await form.locator('button[type=submit]').click();
    await expect.poll(status).toContain('Campaign spring saved');
    await page.waitForSelector('td >> text=Spring sale');
    const saved = await gw.db.campaigns.get(T, 'spring');
    expect(saved?.status).toBe('active');
    expect(saved?.config.dispositions).toHaveProperty('sale');

    await page.click('button:has-text("Pause")');
    await expect.poll(async () => (await gw.db.campaigns.get(T, 'spring'))?.status).toBe('paused');
    await page.waitForSelector('button:has-text("Resume")');
    await page.screenshot({ path: artifact('admin-campaigns.png'), fullPage: true });
    await page.click('button:has-text("Resume")');
    await expect.poll(async () => (await gw.db.campaigns.get(T, 'spring'))?.status).toBe('active');
  });

  it('adds a user, registers a device (token shown once), renames and revokes it, creates an API key', async () => {
    await open('users', 'Users');
    const userForm = page.locator('form.admin-form');
    await userForm.locator('input[name=id]').fill('newbie');
    await userForm.locator('input[name=name]').fill('New Bie');
    await userForm.locator('button[type=submit]').click();
    await expect.poll(status).toContain('User newbie added');
    expect((await gw.db.users.get(T, 'newbie'))?.role).toBe('agent');

    await open('devices', 'Devices');
    const deviceForm = page.locator('form.admin-form');
    const deviceId = await deviceForm.locator('input[name=id]').inputValue();
    await deviceForm.locator('input[name=agentId]').fill('newbie');
    await deviceForm.locator('input[name=label]').fill('desk 4');
    await deviceForm.locator('button[type=submit]').click();
    await page.waitForSelector('.once .secret');
    expect(await page.locator('.once .secret').textContent()).toMatch(/^ey/);
    await page.fill(`input[aria-label="Label of ${deviceId}"]`, 'desk 5');
    await page.click('button:has-text("Rename")');
    await expect.poll(async () => (await gw.db.devices.get(T, deviceId))?.label).toBe('desk 5');
    page.once('dialog', (d) => void d.accept());
    await page.click('button:has-text("Revoke")');
    await expect.poll(async () => (await gw.db.devices.get(T, deviceId))?.revokedAt).not.toBeNull();

    await open('keys', 'API keys');
    await page.locator('form.admin-form input[name=name]').fill('crm');
    await page.locator('form.admin-form button[type=submit]').click();
    await page.waitForSelector('.once .secret');
    expect(await page.locator('.once .secret').textContent()).toMatch(/^dhk_/);
    await page.waitForSelector('td >> text=crm');
    await page.screenshot({ path: artifact('admin-keys.png'), fullPage: true });
  });

  it('sets the time zone, creates a TV link that opens the wallboard read-only, and revokes it', async () => {
    await open('settings', 'Wallboard settings');
    await page.fill('input[name=timeZone]', 'Nowhere/Else');
    await page.click('form.admin-form button[type=submit]');
    await expect.poll(status).toContain('timeZone');
    await page.fill('input[name=timeZone]', 'Europe/Madrid');
    await page.fill('input[name="paused.warn"]', '30');
    await page.fill('input[name="paused.alert"]', '90');
    await page.click('form.admin-form button[type=submit]');
    await expect.poll(status).toContain('Settings saved');
    expect(await gw.db.knex('wallboard_settings').where({ tenant_id: T }).first()).toMatchObject({
      time_zone: 'Europe/Madrid',
    });
    await page.screenshot({ path: artifact('admin-settings.png'), fullPage: true });

    await open('tv', 'TV links');
    await page.locator('form.admin-form input[name=name]').fill('Hall');
    await page.locator('form.admin-form button[type=submit]').click();
    await page.waitForSelector('.once .secret');
    const url = (await page.locator('.once .secret').textContent()) ?? '';
    expect(url).toContain('/?tv=1#key=dhtv_');

    const tv = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
    await tv.goto(url);
    await tv.waitForSelector('#badge.live');
    await tv.waitForSelector('.agent');
    expect(await tv.locator('#controls').isHidden()).toBe(true);
    expect(await tv.locator('.act-pause').count()).toBe(0);
    await tv.screenshot({ path: artifact('wallboard-tv-link.png') });

    await page.click('button:has-text("Revoke")');
    await expect.poll(status).toContain('TV link revoked');
    await tv.waitForSelector('#link-refused:not([hidden])', { timeout: 2_000 });
    expect(await tv.locator('#board').isHidden()).toBe(true);
    expect(await tv.locator('#badge').textContent()).toContain('revoked');
    await tv.close();
  });
});
