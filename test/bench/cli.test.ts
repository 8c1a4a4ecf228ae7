// The bench command line as a load tester meets it: --help lists the scenarios, a bad --json
// path is refused before anything runs, and a tiny run of a scenario leaves a JSON with the
// machine and every metric, and a report that reads without running anything. Tiny numbers:
// this proves the tool works, it does not benchmark.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TableRow } from '../../bench/lib/report.js';
import { startRedisServer } from '../support/redis-servers.js';
import { bench, endBenchRuns } from './run-bench.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-cli-'));
});
afterEach(endBenchRuns);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bench CLI', () => {
  it('--help lists every scenario on one line each, and all', async () => {
    const r = await bench('--help');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    for (const name of ['engine', 'persist', 'loop', 'connections', 'floor', 'all']) {
      expect(lines.some((l) => new RegExp(`^  ${name}\\s{2,}\\S`).test(l))).toBe(true);
    }
  });

  it('an invalid --json file is reported before any scenario starts', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"loop": ');
    const r = await bench('connections', '--quick', '--json', path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/not valid JSON/);
    expect(r.stderr).not.toContain('[connections]');
    expect(await readFile(path, 'utf8')).toBe('{"loop": ');
  });

  it('an unknown scenario is refused with the list of known ones', async () => {
    const r = await bench('nonesuch');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unknown scenario "nonesuch".*connections/);
  });

  it('--url is refused for scenarios that only run against what the bench starts', async () => {
    const r = await bench('engine', '--url', 'http://127.0.0.1:9', '--token', 'x'.repeat(24));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--url: engine/);
  });
});

function expectShape(block: Record<string, unknown>, metrics: readonly string[], ratios: readonly string[]) {
  const m = block['metrics'] as Record<string, number>;
  const r = block['ratios'] as Record<string, number>;
  for (const k of metrics) expect(typeof m[k], `metrics.${k}`).toBe('number');
  for (const k of ratios) expect(Number.isFinite(r[k]), `ratios.${k}`).toBe(true);
  const rows = block['rows'] as TableRow[];
  expect(rows.length).toBeGreaterThanOrEqual(3);
  for (const row of rows) {
    expect(row.explain.length, row.metric).toBeGreaterThan(10);
    if (row.ratio !== '') expect(['higher', 'lower'], row.metric).toContain(row.better);
  }
}

describe('a tiny run', () => {
  it(
    'connections: JSON with the machine and every metric, an empty --json file, the report',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'results.json');
      await writeFile(json, ''); // an existing empty file: must not crash at the end
      const report = join(dir, 'report');
      const r = await bench(
        'connections',
        '--quick',
        '--agents',
        '30',
        '--duration',
        '0.5',
        '--json',
        json,
        '--report',
        report,
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      const machine = doc['machine']!;
      for (const k of [
        'cpus',
        'memGiB',
        'node',
        'redis',
        'postgres',
        'loadAvg',
        'otherCoresBusy',
        'commit',
      ]) {
        expect(machine, k).toHaveProperty(k);
      }
      expectShape(
        doc['connections']!,
        [
          'devices',
          'bytes_per_device',
          'heap_bytes_per_device',
          'external_bytes_per_device',
          'idle_cpu_per_1k_devices',
          'offer_p99_ms',
          'socketio_bytes_per_client',
          'rounds_repeated',
        ],
        ['bytes_vs_socketio', 'idle_cpu_vs_socketio'],
      );
      expect(doc['connections']!['metrics']).toMatchObject({ devices: 30 });
      const html = await readFile(`${report}.html`, 'utf8');
      expect(html).toContain('<h2 id="connections">connections</h2>');
      expect(html).toContain('<svg');
      const md = await readFile(`${report}.md`, 'utf8');
      expect(md).toContain('bytes per idle device');
      expect(r.stdout).toContain('What each row measures:');
    },
  );

  it(
    'floor: the realistic floor through the admin API, merged into the same JSON',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'floor.json');
      await writeFile(json, JSON.stringify({ loop: { metrics: { calls_per_s: 1 }, ratios: {} } }));
      const r = await bench(
        'floor',
        '--quick',
        '--agents',
        '6',
        '--duration',
        '3',
        '--pace',
        '20',
        '--json',
        json,
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      // A result already in the file is kept next to the new one.
      expect(Object.keys(doc).sort()).toEqual(['floor', 'loop', 'machine']);
      expectShape(
        doc['floor']!,
        [
          'calls',
          'calls_per_hour',
          'agent_utilisation',
          'ideal_utilisation',
          'offer_p99_ms',
          'gateway_cpu_cores',
          'redials',
          'errors',
          'outcome_answered',
          'outcome_dnc',
        ],
        ['utilisation_vs_ideal', 'calls_per_hour_vs_ideal'],
      );
      const m = doc['floor']!['metrics'] as Record<string, number>;
      expect(m['agents']).toBe(6);
      expect(m['calls']).toBeGreaterThan(0);
      expect(m['errors']).toBe(0);
      const outcomeSum = ['answered', 'no_answer', 'busy', 'voicemail', 'callback', 'dnc', 'failed'].reduce(
        (a, k) => a + m[`outcome_${k}`]!,
        0,
      );
      expect(outcomeSum).toBe(m['calls']);
    },
  );

  it(
    'persist: outcomes committed vs raw INSERT, with both sides in the JSON',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'persist.json');
      const r = await bench('persist', '--quick', '--agents', '20', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      expectShape(
        doc['persist']!,
        [
          'outcomes_per_s',
          'commit_p50_ms',
          'commit_p99_ms',
          'raw_insert_rows_per_s',
          'outcome_rows_per_commit',
          'rounds_repeated',
        ],
        ['vs_raw_insert'],
      );
      const m = doc['persist']!['metrics'] as Record<string, number>;
      expect(m['outcomes_per_s']).toBeGreaterThan(0);
      expect(m['raw_insert_rows_per_s']).toBeGreaterThan(0);
    },
  );
  it(
    'scale: lease latency and bytes per lead at every step, the ratio against the smallest',
    { timeout: 120_000 },
    async () => {
      const json = join(dir, 'scale.json');
      // A Redis of its own: bytes per lead come from INFO used_memory, which the other test files
      // move on the shared server (a run here once read -8,717 B per lead).
      const redis = await startRedisServer();
      const r = await bench('scale', '--quick', '--json', json, '--redis-url', redis.servers[0]!.url).finally(
        () => redis.stop(),
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      // The quick plan grows 2k -> 20k leads over 20 campaigns.
      expectShape(
        doc['scale']!,
        [
          'lease_p50_ms_2k',
          'lease_p99_ms_2k',
          'lease_p50_ms_20k',
          'lease_p99_ms_20k',
          'redis_bytes_per_lead_20k',
          'redis_bytes_per_lead',
          'enqueue_per_s_20k',
          'leads_max',
          'rounds_repeated',
        ],
        ['p50_20k_vs_2k', 'p99_20k_vs_2k'],
      );
      const m = doc['scale']!['metrics'] as Record<string, number>;
      expect(m['leads_max']).toBe(20_000);
      expect(m['lease_p50_ms_20k']).toBeGreaterThan(0);
      // A queued lead costs something, and nothing like a kilobyte.
      expect(m['redis_bytes_per_lead']).toBeGreaterThan(20);
      expect(m['redis_bytes_per_lead']).toBeLessThan(1_000);
      const steps = doc['scale']!['steps'] as { leads: number }[];
      expect(steps.map((s) => s.leads)).toEqual([2_000, 20_000]);
    },
  );
  it(
    'recovery: frozen devices lose their calls to others, nothing lost or duplicated, late completions refused',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'recovery.json');
      const r = await bench('recovery', '--quick', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      expectShape(
        doc['recovery']!,
        [
          'orphans',
          'reoffer_p50_ms',
          'reoffer_p99_ms',
          'reoffer_p99_ms_over_ttl',
          'lost',
          'duplicates',
          'late_refused',
          'bullmq_lock2s_reoffer_p99_ms',
          'bullmq_lock2s_lost',
        ],
        ['reoffer_p99_vs_bullmq_lock2s'],
      );
      const m = doc['recovery']!['metrics'] as Record<string, number>;
      // 10% of the quick run's 40 agents are frozen while each holds a call.
      expect(m['orphans']).toBe(4);
      // The contract, not a speed: every orphaned call comes back, once, and the frozen devices'
      // late completions of calls offered to others are refused.
      expect(m['lost']).toBe(0);
      expect(m['duplicates']).toBe(0);
      expect(m['late_refused']).toBe(4);
      expect(m['late_accepted_of_reoffered']).toBe(0);
      expect(m['reoffer_p50_ms']).toBeGreaterThan(0);
    },
  );
  it(
    'engine: dialhub and BullMQ side by side on Redis alone, with every metric and ratio',
    { timeout: 600_000 },
    async () => {
      const json = join(dir, 'engine.json');
      const r = await bench('engine', '--quick', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      expectShape(
        doc['engine']!,
        [
          'dialhub_cycles_per_s',
          'bullmq_jobs_per_s',
          'lease_p50_ms_10k',
          'redis_bytes_per_lead',
          'dialhub_enqueue_per_s',
          'bullmq_add_per_s',
          'rounds_repeated',
        ],
        ['vs_bullmq', 'enqueue_vs_bullmq_add'],
      );
      const m = doc['engine']!['metrics'] as Record<string, number>;
      expect(m['dialhub_cycles_per_s']).toBeGreaterThan(0);
      expect(m['bullmq_jobs_per_s']).toBeGreaterThan(0);
    },
  );

  it(
    'loop: dialhub, the BullMQ dialer and bare Socket.IO over real WebSockets, in one JSON block',
    { timeout: 600_000 },
    async () => {
      const json = join(dir, 'loop.json');
      const r = await bench('loop', '--quick', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      expectShape(
        doc['loop']!,
        [
          'calls_per_s',
          'socketio_roundtrips_per_s',
          'bullmq_dialer_calls_per_s',
          'offer_p50_ms',
          'offer_p99_ms',
          'bullmq_dialer_offer_p99_ms',
          'cpu_ms_per_1k_calls',
        ],
        ['vs_socketio', 'vs_bullmq_dialer', 'offer_p99_vs_bullmq_dialer', 'cpu_per_call_vs_bullmq_dialer'],
      );
      const m = doc['loop']!['metrics'] as Record<string, number>;
      expect(m['calls_per_s']).toBeGreaterThan(0);
      expect(m['bullmq_dialer_calls_per_s']).toBeGreaterThan(0);
      // The latency budget: the gateway's stages of a ready -> offer, and the rest outside it.
      const budget = doc['loop']!['latency_budget'] as Record<string, number>;
      expect(budget['offers_traced']).toBeGreaterThan(0);
      expect(budget['script_ms']).toBeGreaterThan(0);
      expect(budget['device_ready_sent_to_offer_mean_ms']).toBeGreaterThanOrEqual(
        budget['inside_gateway_ms']!,
      );
    },
  );
  it(
    'import: a generated CSV through the real import vs csv-parse into INSERTs, with every metric',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'import.json');
      const r = await bench('import', '--quick', '--agents', '2000', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      expectShape(
        doc['import']!,
        [
          'rows_per_s',
          'raw_insert_rows_per_s',
          'peak_rss_mb',
          'rows',
          'queued',
          'duplicates',
          'dnc',
          'rejected',
        ],
        ['vs_raw_insert'],
      );
      const m = doc['import']!['metrics'] as Record<string, number>;
      expect(m['rows']).toBe(2_000);
      // Every row ends in exactly one count.
      expect(m['queued']! + m['duplicates']! + m['dnc']! + m['rejected']!).toBe(2_000);
      // Where the time went: each pipeline step's busy seconds (they overlap) and the import's.
      for (const k of ['import_s', 'check_busy_s', 'store_busy_s', 'queue_busy_s', 'progress_busy_s']) {
        expect(m[k], k).toBeGreaterThan(0);
      }
    },
  );
  it(
    'wallboard: supervisors watching a busy floor vs a naive broadcast, with every metric',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'wallboard.json');
      const r = await bench('wallboard', '--quick', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      const m = doc['wallboard']!['metrics'] as Record<string, number>;
      for (const k of [
        'lag_p50_ms',
        'lag_p99_ms',
        'bytes_per_s_per_supervisor',
        'cpu_ms_per_1k_events',
        'frames_per_s_per_supervisor',
      ]) {
        expect(typeof m[k], k).toBe('number');
      }
      expect(m['frames_per_s_per_supervisor']).toBeGreaterThan(0);
    },
  );

  it(
    'engine --cluster: cycles/s on a local 3-master Redis Cluster next to the single Redis',
    { timeout: 240_000 },
    async () => {
      const json = join(dir, 'engine-cluster.json');
      const r = await bench('engine', '--cluster', '--quick', '--json', json);
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(await readFile(json, 'utf8')) as Record<string, Record<string, unknown>>;
      const m = doc['engine']!['metrics'] as Record<string, number>;
      expect(m['cycles_per_s_single']).toBeGreaterThan(0);
      expect(m['cycles_per_s_cluster']).toBeGreaterThan(0);
      const ratio = (doc['engine']!['ratios'] as Record<string, number>)['cluster_vs_single']!;
      expect(Number.isFinite(ratio) && ratio > 0).toBe(true);
      expect(doc['engine']!['config']).toMatchObject({ campaigns_at_once: 3 });
    },
  );
});
