// Vitest's global setup: runs once in the main process before any test file starts.
import { buildDashboard } from './browser.js';

export default async function setup(): Promise<void> {
  await buildDashboard();
}
