// Real Chromium for browser tests: Debian's `chromium` driven by playwright-core (no browser
// download; .ci/run installs the package when missing), the dashboard built by Vite once per test
// run, and a login through the pages' form. Screenshots go to test/browser/artifacts/.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { build } from 'vite';
import { TEST_PASSWORD } from './admin-gateway.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../browser/artifacts');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Chromium with one page open (`viewport`, `acceptDownloads`, ...); close the browser when done. */
export async function launchWithPage(
  options: BrowserContextOptions,
): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  try {
    return { browser, page: await browser.newPage(options) };
  } catch (err) {
    await browser.close();
    throw err;
  }
}

/**
 * Open `at` (the admin pages, the wallboard) and log in through its form as `email` of the tenant
 * with the test users' password; resolves once the form is sent.
 */
export async function logIn(page: Page, at: string, tenantId: string, email: string): Promise<void> {
  await page.goto(at);
  await page.fill('input[name=tenantId]', tenantId);
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', TEST_PASSWORD);
  await page.click('#login-form button[type=submit]');
}

/**
 * Build dashboard/dist (what the gateway serves) from the sources under test. Run once per test
 * run, before any test file, by test/support/global-setup.ts: a build empties dist/ first, so a
 * build from one browser test file while another's page loads its scripts left that page
 * without them (its login form, shown by the script, never appeared).
 */
export async function buildDashboard(): Promise<void> {
  await build({
    configFile: resolve(import.meta.dirname, '../../dashboard/vite.config.js'),
    logLevel: 'error',
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}

export const artifact = (name: string): string => resolve(ARTIFACTS, name);
