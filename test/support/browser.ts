// Real Chromium for browser tests: Debian's `chromium` driven by playwright-core (no browser
// download; .ci/run installs the package when missing), and the dashboard built by Vite once per
// test file. Screenshots go to test/browser/artifacts/.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { build } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = resolve(import.meta.dirname, '../browser/artifacts');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Build dashboard/dist (what the gateway serves) from the sources under test. */
export async function buildDashboard(): Promise<void> {
  await build({
    configFile: resolve(import.meta.dirname, '../../dashboard/vite.config.js'),
    logLevel: 'error',
  });
  mkdirSync(ARTIFACTS, { recursive: true });
}

export const artifact = (name: string): string => resolve(ARTIFACTS, name);
