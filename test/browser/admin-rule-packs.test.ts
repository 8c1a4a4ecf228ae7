// The rule-packs page in real Chromium against a real gateway (real Redis, real Postgres): an
// owner creates a pack with the form (region, hours per day, a call cap, a gap, a lockout,
// holidays; no JSON typed), sees it listed, is refused deleting it while a campaign uses it (the
// campaign named), edits it (the campaign using it runs the new cap at once), and deletes it once
// unused. A supervisor sees the list without the form. Screenshot in
// test/browser/artifacts/admin-rule-packs.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminGateway } from '../support/admin-gateway.js';
import { artifact, launchWithPage, logIn } from '../support/browser.js';

const T = 'rpk';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('the rule-packs page in Chromium', { timeout: 90_000 }, () => {
  let gw: AdminGateway;
  let browser: Browser;
  let page: Page;
  let owner = '';
  let packId = '';

  const login = (p: Page, email: string) => logIn(p, `${gw.url}/admin`, T, email);
  const putCampaign = async (rulePackIds: string[]) => {
    const res = await fetch(`${gw.url}/api/v1/tenants/${T}/campaigns/spring`, {
      method: 'PUT',
      headers: { authorization: owner, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'spring',
        status: 'active',
        window: ALWAYS_OPEN,
        // Its own outcome code the pack's lockout names.
        dispositions: { abandoned: { final: false } },
        rulePackIds,
      }),
    });
    expect(res.status, await res.text()).toBe(200);
  };
  const status = () => page.locator('#status').textContent();

  beforeAll(async () => {
    gw = await AdminGateway.start();
    await gw.seedTenant(T, [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    owner = await gw.bearer(T, 'boss');
    await putCampaign([]);
    ({ browser, page } = await launchWithPage({ viewport: { width: 1280, height: 1100 } }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('creates a pack from the form, without JSON', async () => {
    await login(page, `boss@${T}.test`);
    await page.click('#nav button[data-section=rule-packs]');
    const form = page.locator('#rule-pack-form');
    await form.waitFor();
    await form.locator('input[name=name]').fill('UK weekdays');
    await form.locator('input[name=zones]').fill('Europe/London');
    await form.locator('input[name=limitHours]').check();
    for (let d = 1; d <= 5; d++) {
      await form.locator(`input[name=from${d}]`).fill('09:00');
      await form.locator(`input[name=to${d}]`).fill('20:00');
    }
    await form.locator('input[name=capCount0]').fill('3');
    await form.locator('input[name=capHours0]').fill('24');
    await form.locator('input[name=gapHours]').fill('4');
    await form.locator('input[name=lockoutOutcomes]').fill('abandoned');
    await form.locator('input[name=lockoutDays]').fill('30');
    await form.locator('textarea[name=holidays]').fill('2026-12-25\n2027-01-01');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('#status:text-is("Rule pack UK weekdays created.")');

    const row = page.locator('#rule-packs-table tbody tr');
    expect(await row.count()).toBe(1);
    packId = (await row.getAttribute('data-pack'))!;
    expect(await row.textContent()).toContain(
      'Mon Tue Wed Thu Fri 09:00-20:00 · at most 3 in 1 day · gap 4 h',
    );
    const stored = await gw.db
      .knex('rule_packs')
      .where({ tenant_id: T, id: packId })
      .first<{ pack: unknown }>();
    expect(stored?.pack).toEqual({
      name: 'UK weekdays',
      zones: ['Europe/London'],
      hours: { rules: [1, 2, 3, 4, 5].map((d) => ({ days: [d], from: '09:00', to: '20:00' })) },
      holidays: ['2026-12-25', '2027-01-01'],
      maxCalls: [{ count: 3, periodMs: DAY }],
      minGapMs: 4 * HOUR,
      lockout: { outcomes: ['abandoned'], durationMs: 30 * DAY },
    });

    // A mistake is caught before it is sent, naming the field.
    await form.locator('input[name=name]').fill('Bad');
    await form.locator('textarea[name=holidays]').fill('2026-02-30');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('#status.error');
    expect(await status()).toMatch(/holidays/);
  });

  it('refuses to delete a pack a campaign uses, naming it; an edit reaches the campaign', async () => {
    await putCampaign([packId]);
    await page.click(`button[data-delete="${packId}"]`);
    await page.waitForSelector('#status:text-matches("^RULE_PACK_IN_USE")');
    expect(await status()).toMatch(/^RULE_PACK_IN_USE: .*spring/);

    await page.click(`button[data-edit="${packId}"]`);
    const form = page.locator(`#rule-pack-form[data-editing="${packId}"]`);
    await form.waitFor();
    expect(await form.locator('input[name=capCount0]').inputValue()).toBe('3');
    expect(await form.locator('input[name=from1]').inputValue()).toBe('09:00');
    await form.locator('input[name=capCount0]').fill('1');
    await form.locator('input[name=lockoutOutcomes]').fill('');
    await form.locator('input[name=lockoutDays]').fill('');
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('#status:text-matches("saved; campaigns using it now run it: spring")');
    const campaign = await gw.db.campaigns.get(T, 'spring');
    const packs = campaign?.config.callingRules?.packs ?? [];
    expect(packs.map((p) => p.name)).toEqual(['UK weekdays']);
    expect(packs[0]?.maxCalls).toEqual([{ count: 1, periodMs: DAY }]);
    expect(packs[0]?.lockout).toBeUndefined();
    expect(await page.locator('#rule-packs-table tbody tr').textContent()).toContain('at most 1 in 1 day');
    await page.screenshot({ path: artifact('admin-rule-packs.png'), fullPage: true });
  });

  it('shows a supervisor the list without the form', async () => {
    const p = await browser.newPage();
    await login(p, `sue@${T}.test`);
    await p.click('#nav button[data-section=rule-packs]');
    await p.waitForSelector('#rule-packs-table');
    expect(await p.locator('#rule-pack-form').count()).toBe(0);
    expect(await p.locator('button[data-delete]').count()).toBe(0);
    await p.close();
  });

  it('deletes a pack no campaign uses', async () => {
    await putCampaign([]);
    await page.click(`button[data-delete="${packId}"]`);
    await page.waitForSelector('#status:text-is("Rule pack UK weekdays deleted.")');
    expect(await page.locator('#rule-packs-table').count()).toBe(0);
    expect(await gw.db.knex('rule_packs').where({ tenant_id: T }).count<{ count: string }[]>()).toEqual([
      { count: '0' },
    ]);
  });
});
