// Smoke test of the `startup` scenario at its quick size: it builds the bundle, restarts the
// gateway against real Redis and Postgres (bundle and tsx), starts the zero-setup process and
// reports every metric, ending every process it started.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bench, endBenchRuns } from './run-bench.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-startup-'));
});
afterEach(endBenchRuns);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bench startup', () => {
  it(
    'times restarts of the bundle against tsx and reads the idle zero-setup RSS',
    { timeout: 300_000 },
    async () => {
      const json = join(dir, 'startup.json');
      const r = await bench('startup', '--quick', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      const m = doc['startup']!['metrics'] as Record<string, number>;
      for (const k of [
        'start_to_ready_ms',
        'tsx_start_to_ready_ms',
        'first_start_with_migrations_ms',
        'zero_setup_first_start_ms',
        'zero_setup_idle_rss_mib',
      ]) {
        expect(m[k], k).toBeGreaterThan(0);
      }
      // A gateway holds at least its heap and the embedded database: tens of MiB, never zero.
      expect(m['zero_setup_idle_rss_mib']).toBeGreaterThan(30);
      const ratios = doc['startup']!['ratios'] as Record<string, number>;
      expect(ratios['compiled_vs_tsx']).toBeCloseTo(m['start_to_ready_ms']! / m['tsx_start_to_ready_ms']!, 2);
      expect(r.stdout).toMatch(/start to \/readyz ms .* \(lower is better\)/);
    },
  );
});
