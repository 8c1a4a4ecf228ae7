// The rights-requests page in real Chromium against a real gateway (real Redis, real Postgres):
// an owner sees every request with its deadline and status, the open one past its deadline
// flagged overdue and counted, can cut the list to the overdue ones, answers an access request
// (the export is downloaded, and the request appears completed) and erases a number after
// confirming (its leads are gone from Postgres). A supervisor has no such page. Screenshot in
// test/browser/artifacts/admin-rights.png.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminGateway } from '../support/admin-gateway.js';
import { artifact, launchWithPage, logIn } from '../support/browser.js';

const T = 'rr';
const ADA = '+447700900555';
const BEA = '+447700900666';
const DAY = 86_400_000;

describe('the rights-requests page in Chromium', { timeout: 90_000 }, () => {
  let gw: AdminGateway;
  let browser: Browser;
  let page: Page;

  const login = (p: Page, email: string) => logIn(p, `${gw.url}/admin`, T, email);
  const summary = () => page.locator('#rights-summary').textContent();
  const leadsWith = async (phone: string) => {
    const { rows } = await gw.db.knex.raw<{ rows: { n: string }[] }>(
      'SELECT count(*) AS n FROM leads WHERE tenant_id = ? AND phone = ?',
      [T, phone],
    );
    return Number(rows[0]!.n);
  };

  beforeAll(async () => {
    gw = await AdminGateway.start();
    await gw.seedTenant(T, [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    const owner = await gw.bearer(T, 'boss');
    const put = await fetch(`${gw.url}/api/v1/tenants/${T}/campaigns/spring`, {
      method: 'PUT',
      headers: { authorization: owner, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'spring', status: 'active', window: ALWAYS_OPEN }),
    });
    expect(put.status).toBe(200);
    const add = await fetch(`${gw.url}/api/v1/tenants/${T}/campaigns/spring/leads`, {
      method: 'POST',
      headers: { authorization: owner, 'content-type': 'application/json' },
      body: JSON.stringify({
        leads: [
          { phone: ADA, name: 'Ada Lovelace', timeZone: 'Europe/London' },
          { phone: BEA, name: 'Bea Smith', timeZone: 'Europe/London' },
        ],
      }),
    });
    expect(add.status).toBe(200);
    // Two requests entered but not answered: one received 40 days ago (past its one-month
    // deadline), one today.
    const hashes = await gw.db.privacy.keys.hashesOf(T, [ADA, BEA]);
    await gw.db.privacy.requests.open(T, {
      kind: 'rectification',
      subjectHash: hashes.get(ADA)!,
      actor: 'boss',
      receivedAt: Date.now() - 40 * DAY,
    });
    await gw.db.privacy.requests.open(T, {
      kind: 'erasure',
      subjectHash: hashes.get(BEA)!,
      actor: 'boss',
      receivedAt: Date.now(),
    });
    ({ browser, page } = await launchWithPage({
      viewport: { width: 1280, height: 1000 },
      acceptDownloads: true,
    }));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('lists every request with its deadline and status, the overdue one flagged and counted', async () => {
    await login(page, `boss@${T}.test`);
    await page.click('#nav button[data-section=rights]');
    await page.waitForSelector('#rights-table');
    expect(await summary()).toBe('2 requests, 2 open, 1 overdue');
    const overdue = page.locator('#rights-table tr.overdue');
    expect(await overdue.count()).toBe(1);
    expect(await overdue.locator('td').nth(1).textContent()).toBe('rectification');
    expect(await overdue.textContent()).toContain('OVERDUE');
    // Its deadline is one month after it was received: in the past.
    const deadline = await overdue.locator('td').nth(4).textContent();
    expect(Date.parse(new Date(deadline!).toISOString())).toBeLessThan(Date.now());
    // Only the overdue ones.
    await page.check('#rights-overdue');
    await page.waitForSelector('#rights-summary:text-is("1 overdue")');
    expect(await page.locator('#rights-table tbody tr').count()).toBe(1);
    await page.uncheck('#rights-overdue');
    await page.waitForSelector('#rights-summary:text-is("2 requests, 2 open, 1 overdue")');
  });

  it('answers an access request with a downloaded export, recorded as completed', async () => {
    const form = page.locator('#rights-access');
    await form.locator('input[name=phone]').fill(ADA);
    await form.locator('select[name=format]').selectOption('json');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      form.locator('button[type=submit]').click(),
    ]);
    expect(download.suggestedFilename()).toBe('subject-export.json');
    const exported = JSON.parse(await readFile(await download.path(), 'utf8')) as {
      phone: string;
      leads: { name: string }[];
    };
    expect(exported.phone).toBe(ADA);
    expect(exported.leads.map((l) => l.name)).toEqual(['Ada Lovelace']);
    await page.waitForSelector('#rights-summary:text-is("3 requests, 2 open, 1 overdue")');
    const newest = page.locator('#rights-table tbody tr').first();
    expect(await newest.locator('td').nth(1).textContent()).toBe('access');
    expect(await newest.locator('td').nth(2).textContent()).toBe('completed');
    // The number is not left on the page.
    expect(await page.locator('#page').innerHTML()).not.toContain(ADA.slice(1));
  });

  it('erases a number only once confirmed', async () => {
    const form = page.locator('#rights-erasure');
    await form.locator('input[name=phone]').fill(BEA);
    await form.locator('button[type=submit]').click();
    // Not confirmed: the browser refuses the form, nothing is sent.
    await new Promise((r) => setTimeout(r, 500));
    expect(await leadsWith(BEA)).toBe(1);
    await form.locator('input[name=confirm]').check();
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('#status:text-is("Erased: 1 lead(s), 0 attempt(s).")');
    expect(await leadsWith(BEA)).toBe(0);
    await page.waitForSelector('#rights-summary:text-is("4 requests, 2 open, 1 overdue")');
    await page.screenshot({ path: artifact('admin-rights.png'), fullPage: true });
  });

  it('shows a supervisor no rights-requests page', async () => {
    const p = await browser.newPage();
    await login(p, `sue@${T}.test`);
    await p.waitForSelector('#nav button[data-section=campaigns]');
    expect(await p.locator('#nav button[data-section=rights]').count()).toBe(0);
    await p.close();
  });
});
