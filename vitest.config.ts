import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // The dashboard is built once, before any file runs (see test/support/browser.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // Two files at a time on the 2-core machines this runs on (Vitest's default is one fewer than
    // the cores: one). Each file isolates itself (its own key prefix or Redis database, its own
    // schema or database), and much of the suite waits on sockets and timers: one at a time the
    // whole run took 31 minutes with the cores 40 % idle.
    maxWorkers: 2,
    // expect.poll's default of 1 s: a browser page or a gateway under CI's load can take longer
    // than that to show what a test waits for; a poll that never holds still fails.
    expect: { poll: { timeout: 5_000 } },
  },
});
