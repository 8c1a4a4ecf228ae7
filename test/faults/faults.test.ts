// Fault injection against real processes: a private Redis, Postgres (its own database, behind a
// proxy that can cut it), two gateway processes (gateway/main.ts), floors of socket.io-client
// devices in child processes. Each scenario injects its fault while calls are live and must end
// with 0 anomalies in the observer's history AND evidence that the fault happened.
// `npm test` runs the short profile; `npm run test:faults` the full one (FAULTS_PROFILE=full).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { table, writeResults } from './report.js';
import { PROFILES, runScenario, SCENARIOS } from './scenarios.js';
import type { ScenarioResult } from './scenarios.js';
import { FaultSuite } from './suite.js';

// eslint-disable-next-line no-restricted-syntax -- the suite's own switches, read once here
const env = process.env;
const profile = PROFILES[env.FAULTS_PROFILE === 'full' ? 'full' : 'short'];
const only = env.FAULTS_ONLY?.split(',');
// FAULTS_ONLY names scenarios to run whatever the profile; otherwise the profile's own.
const scenarios = SCENARIOS.filter((s) =>
  only ? only.includes(s.name) : (s.profiles ?? [profile.name]).includes(profile.name),
);

describe(`fault injection (${profile.name} profile)`, () => {
  let suite: FaultSuite | undefined;
  /** Started for the first scenario that needs a Redis Cluster (redis-failover). */
  let clusterSuite: FaultSuite | undefined;
  const results: ScenarioResult[] = [];
  const started = Date.now();
  let failed = false;

  beforeAll(async () => {
    suite = await FaultSuite.start();
  }, 120_000);

  afterAll(async () => {
    try {
      if (results.length > 0) {
        writeResults(profile, results, Date.now() - started);
        process.stdout.write(
          `\nfault suite (${profile.name}), ${Math.round((Date.now() - started) / 1000)} s\n${table(results)}\n`,
        );
      }
    } finally {
      for (const s of [suite, clusterSuite]) {
        await s?.dispose();
        if (failed && s) process.stdout.write(`gateway logs kept in ${s.logDir}\n`);
        else s?.removeLogs();
      }
    }
  }, 60_000);

  for (const scenario of scenarios) {
    it(
      `${scenario.name}: ${scenario.fault}`,
      async () => {
        try {
          const world =
            scenario.redis === 'cluster'
              ? (clusterSuite ??= await FaultSuite.start({ cluster: true }))
              : suite!;
          const result = await runScenario(world, scenario, profile);
          results.push(result);
          expect(result.anomalies).toEqual([]);
          for (const [name, e] of Object.entries(result.evidence))
            expect({ name, ...e }).toEqual({ name, value: e.value, ok: true });
          expect(result.summary.acknowledged).toBeGreaterThan(0);
        } catch (err) {
          failed = true;
          throw err;
        }
      },
      // A cluster scenario starts its own world (6 redis-servers, 2 gateways) inside its test.
      profile.name === 'full' ? 600_000 : scenario.redis === 'cluster' ? 240_000 : 120_000,
    );
  }
});
