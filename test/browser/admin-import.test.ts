// The lead import, do-not-call and campaign edit pages in real Chromium against a real gateway
// (real Redis, real Postgres): an owner uploads a messy CSV (BOM, `;`, CRLF, quoted separators,
// an invalid number, a duplicate, a row with no number, then thousands of good rows), watches the
// counts grow while it imports, reads the result counts and downloads the rejects, whose content
// is checked; previews a file with the guessed column mapping and imports it with the mapping
// changed; edits a campaign's calling hours; removes a number from the do-not-call list.
// Screenshots at 1920×1080 and 1280×720 go to test/browser/artifacts/.
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';
import { artifact, launchWithPage, logIn } from '../support/browser.js';
import { TEST_SECRET } from '../support/gateway.js';

const T = 'imp';
const BULK = 80_000;

/** A spreadsheet export with the usual faults, then many good rows (so the import takes a while). */
function messyCsv(): string {
  const head = [
    'Vorname;Nachname;Telefon;Handy;Notiz',
    'Anna;Smith;+44 20 7946 0018;;"Prefers mornings; ask for Anna"',
    'Bob;Brown;+442079460019;+44 7911 123456;',
    'Chloé;Dubois;not a number;;x',
    'Dan;Again;+442079460018;;',
    'Eve;Nophone;;;',
  ];
  const bulk = Array.from({ length: BULK }, (_, i) => `Lead;${i};+1212${2_000_000 + i};;`);
  return `\ufeff${[...head, ...bulk].join('\r\n')}\r\n`;
}

describe('lead import, do-not-call and campaign edit pages in Chromium', { timeout: 120_000 }, () => {
  let gw: AdminGateway;
  let browser: Browser;
  let page: Page;
  let owner = '';

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${gw.url}/api/v1/tenants/${T}${path}`, {
      method,
      headers: { authorization: owner, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> };
  };
  const status = () => page.locator('#status').textContent();
  const open = async (section: string, title: string) => {
    await page.click(`#nav button[data-section=${section}]`);
    await page.waitForSelector(`#section-title:text-is("${title}")`);
    await page.waitForSelector('form.admin-form');
  };
  const chooseFile = (name: string, text: string) =>
    page.setInputFiles('.import-panel input[type=file]', {
      name,
      mimeType: 'text/csv',
      buffer: Buffer.from(text, 'utf8'),
    });

  beforeAll(async () => {
    gw = await AdminGateway.start({ supervisor: supervisorWithLogins(TEST_SECRET) });
    await gw.seedTenant(T, [{ id: 'boss', role: 'owner' }]);
    const login = await fetch(`${gw.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: T, email: `boss@${T}.test`, password: TEST_PASSWORD }),
    });
    owner = `Bearer ${((await login.json()) as { accessToken: string }).accessToken}`;
    for (const c of ['spring', 'autumn']) {
      expect(
        (await api('PUT', `/campaigns/${c}`, { name: c, status: 'active', window: ALWAYS_OPEN })).status,
      ).toBe(200);
    }
    await api('POST', '/dnc', { phones: ['+442079460077', '+442079460078'] });
    ({ browser, page } = await launchWithPage({
      viewport: { width: 1920, height: 1080 },
      acceptDownloads: true,
    }));
    await logIn(page, `${gw.url}/admin`, T, `boss@${T}.test`);
    await page.waitForSelector('#nav button[data-section=leads]');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('imports a messy CSV: counts while it runs, the result, and the rejects as a CSV download', async () => {
    await open('leads', 'Leads & DNC');
    await page.selectOption('.import-panel select[name=campaign]', 'spring');
    await chooseFile('messy.csv', messyCsv());
    await page.click('.import-panel button.import');
    // The counts of the import in progress, read while the file uploads.
    await page.waitForSelector('#import-progress .counts[data-status=running]', { timeout: 30_000 });
    await page.waitForSelector('#import-progress .counts[data-status=done]', { timeout: 60_000 });
    const count = (k: string) => page.locator(`#import-progress [data-count=${k}]`).textContent();
    expect(await count('rowsRead')).toBe(String(BULK + 5));
    expect(await count('queued')).toBe(String(BULK + 2));
    expect(await count('duplicates')).toBe('1');
    expect(await count('rejected')).toBe('2');
    await expect.poll(status).toContain(`${BULK + 2} queued, 2 rejected`);
    await page.screenshot({ path: artifact('admin-import-1920.png') });
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.screenshot({ path: artifact('admin-import-1280.png') });
    await page.setViewportSize({ width: 1920, height: 1080 });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#import-progress button.rejects'),
    ]);
    expect(download.suggestedFilename()).toMatch(/^import-\d+-rejects\.csv$/);
    const csv = await readFile(await download.path(), 'utf8');
    const lines = csv
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('row,column,code,severity,detail,value');
    const brief = lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','));
    expect(brief).toEqual([
      '4,Telefon,PHONE_INVALID,error',
      '5,,DUPLICATE_IN_FILE,error',
      '6,Telefon,PHONE_MISSING,error',
    ]);
    expect(lines[1]).toContain('not a number');
    const leads = await api('GET', '/campaigns/spring/leads?limit=2');
    expect((leads.body.items as { name: string }[]).map((l) => l.name)).toEqual(['Anna Smith', 'Bob Brown']);
  });

  it('previews a file with the guessed mapping, and imports it with the mapping changed', async () => {
    await open('leads', 'Leads & DNC');
    await page.selectOption('.import-panel select[name=campaign]', 'autumn');
    const small = messyCsv().split('\r\n').slice(0, 6).join('\r\n');
    await chooseFile('small.csv', small);
    await page.click('.import-panel button.preview');
    await page.waitForSelector('#import-preview table.mapping');
    const role = (column: string) => page.locator(`select[aria-label="column ${column}"]`).inputValue();
    expect(await role('Telefon')).toBe('phone');
    expect(await role('Handy')).toBe('phone');
    expect(await role('Vorname')).toBe('name');
    expect(await role('Nachname')).toBe('name');
    expect(await role('Notiz')).toBe('field');
    expect(await page.locator('#import-preview .file-info').textContent()).toContain('delimiter “;”');
    expect(await page.locator('#import-preview table.sample tbody tr').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('#import-preview table.sample').textContent()).toContain('PHONE_INVALID');
    await page.screenshot({ path: artifact('admin-import-preview-1920.png') });

    // No phone column at all is refused on the page, by the API's own schema.
    await page.selectOption('select[aria-label="column Telefon"]', 'field');
    await page.selectOption('select[aria-label="column Handy"]', 'field');
    await page.click('.import-panel button.preview-again');
    await expect.poll(status).toContain('phones');
    // Only the mobile column is a number now; the note is left out.
    await page.selectOption('select[aria-label="column Handy"]', 'phone');
    await page.selectOption('select[aria-label="column Notiz"]', 'skip');
    await page.click('.import-panel button.import');
    await page.waitForSelector('#import-progress .counts[data-status=done]', { timeout: 30_000 });
    expect(await page.locator('#import-progress [data-count=queued]').textContent()).toBe('1');
    const leads = await api('GET', '/campaigns/autumn/leads?limit=10');
    expect(
      (leads.body.items as { phone: string; fields: unknown }[]).map((l) => [l.phone, l.fields]),
      // The landline is a custom field now; the note was left out.
    ).toEqual([['+447911123456', { Telefon: '+442079460019' }]]);
  });

  it('edits a campaign’s calling hours with PATCH, leaving its name and status as they were', async () => {
    await open('campaigns', 'Campaigns');
    const edit = page.locator('form.campaign-edit');
    await edit.locator('select[name=campaign]').selectOption('autumn');
    await edit.locator('input[name=from]').fill('21:00');
    await edit.locator('input[name=to]').fill('08:00');
    await edit.locator('button[type=submit]').click();
    await expect.poll(status).toContain('from must be before to');
    await edit.locator('input[name=from]').fill('10:00');
    await edit.locator('input[name=to]').fill('18:30');
    await edit.locator('button[type=submit]').click();
    await expect.poll(status).toContain('Campaign autumn updated');
    const saved = await gw.db.campaigns.get(T, 'autumn');
    expect(saved).toMatchObject({ name: 'autumn', status: 'active' });
    expect(JSON.stringify(saved?.config.window)).toContain('18:30');
    // The section drawn again with the change (its queue figures read first).
    await page.waitForSelector('form.campaign-edit');
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.locator('form.campaign-edit').scrollIntoViewIfNeeded();
    await page.screenshot({ path: artifact('admin-campaign-edit-1280.png') });
    await page.setViewportSize({ width: 1920, height: 1080 });
  });

  it('removes a number from the do-not-call list', async () => {
    await open('leads', 'Leads & DNC');
    await page.click('button[aria-label="Remove +442079460077 from the do-not-call list"]');
    await expect.poll(status).toContain('+442079460077 removed from the do-not-call list');
    expect((await api('GET', '/dnc/%2B442079460077')).body).toMatchObject({ listed: false });
    expect((await api('GET', '/dnc/%2B442079460078')).body).toMatchObject({ listed: true });
    await page.waitForSelector('td >> text=+442079460078');
    expect(await page.locator('td >> text=+442079460077').count()).toBe(0);
  });
});
