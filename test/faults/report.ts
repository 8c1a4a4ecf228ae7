// The fault suite's report: one table row per scenario (printed), and the whole run as JSON in
// test/faults/results/latest.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Profile, ScenarioResult } from './scenarios.js';

export const RESULTS_FILE = 'test/faults/results/latest.json';

const refused = (r: ScenarioResult) =>
  Object.entries(r.summary.refusedByCode)
    .map(([code, n]) => `${code} ${n}`)
    .join(', ') || '—';

const kinds = (r: ScenarioResult) => {
  const by = new Map<string, number>();
  for (const a of r.anomalies) by.set(a.type, (by.get(a.type) ?? 0) + 1);
  return [...by].map(([t, n]) => `${t} ${n}`).join(', ') || '0';
};

export function table(results: readonly ScenarioResult[]): string {
  const head = [
    'scenario',
    'calls',
    'acknowledged',
    'rows (late)',
    'retried',
    'refused by code',
    'anomalies',
    'evidence',
  ];
  const rows = results.map((r) => [
    r.scenario,
    String(r.summary.offers),
    String(r.summary.acknowledged),
    `${r.summary.rows} (${r.summary.lateRows})`,
    String(r.summary.retriedCompletions),
    refused(r),
    kinds(r),
    Object.entries(r.evidence)
      .map(([k, v]) => `${k}=${v.value}${v.ok ? '' : ' (NOT MET)'}`)
      .join('; '),
  ]);
  const lines = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  return lines.join('\n');
}

export function writeResults(profile: Profile, results: readonly ScenarioResult[], wallMs: number): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  writeFileSync(
    RESULTS_FILE,
    `${JSON.stringify({ profile: profile.name, finishedAt: new Date().toISOString(), wallMs, results }, null, 2)}\n`,
  );
}
