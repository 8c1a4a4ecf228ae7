// Smoke test of `loop --gateways 3` at a tiny size: three gateway processes on the streams adapter
// behind HAProxy (deploy/haproxy.cfg) against gateway 1 alone behind the same config; it reports
// calls/s and ready->offer p99 for both under the JSON key loop_gateways, and ends every process.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { bench, endBenchRuns } from './run-bench.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-loop-gateways-'));
});
afterEach(endBenchRuns);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bench loop --gateways 3', () => {
  it('reports calls/s and offer p99 with three gateways against one', { timeout: 300_000 }, async () => {
    const json = join(dir, 'loop.json');
    const r = await bench('loop', '--gateways', '3', '--quick', '--agents', '6', '--json', json);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
    expect(doc['loop']).toBeUndefined();
    const result = doc['loop_gateways']!;
    const m = result['metrics'] as Record<string, number>;
    for (const k of ['calls_per_s_1', 'calls_per_s_3', 'offer_p99_ms_1', 'offer_p99_ms_3'])
      expect(m[k], k).toBeGreaterThan(0);
    const ratios = result['ratios'] as Record<string, number>;
    expect(ratios['three_vs_one']).toBeCloseTo(m['calls_per_s_3']! / m['calls_per_s_1']!, 1);
    expect((result['config'] as Record<string, unknown>)['gateways']).toBe(3);
    // The devices of the three-gateway side were spread over all three.
    expect(r.stderr).toMatch(/devices per gateway on the 3-gateway side: [1-9]\d*, [1-9]\d*, [1-9]\d*/);
    expect(r.stdout).toMatch(/loop --gateways 3/);
  });
});
