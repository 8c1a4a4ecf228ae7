// How results leave a scenario: a table for people (stdout) and a JSON file for machines, merged
// by scenario name so that several scenarios (engine, loop, ...) share one results file.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MachineInfo } from './machine.js';
import { parseResultsText } from './output-paths.js';

/** What one scenario writes under its name in the JSON file. */
export interface ScenarioResult {
  /** Headline and extra numbers, units in the names (`_per_s`, `_ms`, `_bytes`). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Dimensionless comparisons computed from the metrics. */
  readonly ratios: Readonly<Record<string, number>>;
  /** Everything needed to reproduce the run: sizes, batch sizes, rounds, tuned settings. */
  readonly config: Readonly<Record<string, unknown>>;
  /** Anything else worth keeping: per-round values, tuning trials, caveats. */
  readonly [extra: string]: unknown;
}

/** Which way a ratio (or a figure) is better: every ratio in a table says it. */
export type Better = 'higher' | 'lower';

export interface TableRow {
  readonly scenario: string;
  readonly metric: string;
  readonly value: string;
  readonly baseline: string;
  readonly ratio: string;
  /** '' only on rows without a ratio. */
  readonly better: Better | '';
  readonly goal: string;
  /** One line saying what the row measures, for readers who did not write the bench. */
  readonly explain: string;
}

export interface RowInput {
  readonly metric: string;
  readonly value: string;
  readonly baseline?: string;
  readonly ratio?: string;
  readonly better?: Better;
  readonly goal?: string;
  readonly explain: string;
}

/** Build a row; a ratio without its direction, or a row without an explanation, is a bench bug. */
export function tableRow(scenario: string, r: RowInput): TableRow {
  const ratio = r.ratio ?? '';
  if (ratio !== '' && r.better === undefined) {
    throw new Error(`bench row "${r.metric}" has a ratio but does not say which direction is better`);
  }
  if (r.explain.trim() === '') throw new Error(`bench row "${r.metric}" is not explained`);
  return {
    scenario,
    metric: r.metric,
    value: r.value,
    baseline: r.baseline ?? '',
    ratio,
    better: r.better ?? '',
    goal: r.goal ?? '',
    explain: r.explain,
  };
}

/** The ratio column as people read it: the number and which way is better. */
export const ratioText = (r: TableRow): string =>
  r.ratio === '' ? '' : `${r.ratio} (${r.better === 'higher' ? 'higher' : 'lower'} is better)`;

/** Number formatting for the table: thousands separators, a few significant decimals. */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** The plain-text table for a terminal, then one line per row saying what it measures. */
export function renderTable(rows: readonly TableRow[]): string {
  const headers = ['scenario', 'metric', 'value', 'baseline', 'ratio', 'goal'] as const;
  const cells = rows.map((r) => [r.scenario, r.metric, r.value, r.baseline, ratioText(r), r.goal]);
  const numeric = new Set([2]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) =>
    c
      .map((v, i) => (numeric.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const legend = rows.map((r) => `  ${r.metric.trim()}: ${r.explain}`);
  return [line(headers), rule, ...cells.map(line), '', 'What each row measures:', ...legend].join('\n');
}

/**
 * Write `result` under `scenario` in the JSON file at `path`, keeping the other scenarios already
 * there. `machine` is replaced: it describes the latest run. Written to a temporary file and
 * renamed, so an interrupted run never leaves half a file.
 */
export async function mergeJson(
  path: string,
  machine: MachineInfo,
  scenario: string,
  result: ScenarioResult,
): Promise<void> {
  // Checked before the run too (output-paths.ts); read again here, since an earlier scenario of
  // the same invocation (or a parallel run) may have written to it since.
  const existing = existsSync(path) ? parseResultsText(path, await readFile(path, 'utf8')) : {};
  const merged = { ...existing, machine, [scenario]: result };
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(merged, null, 2)}\n`);
  await rename(tmp, path);
}
