// How results leave a scenario: a table for people (stdout) and a JSON file for machines, merged
// by scenario name so that several scenarios (engine, loop, ...) share one results file.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { MachineInfo } from './machine.js';

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

export interface TableRow {
  readonly scenario: string;
  readonly metric: string;
  readonly value: string;
  readonly baseline: string;
  readonly ratio: string;
  readonly goal: string;
}

/** Number formatting for the table: thousands separators, a few significant decimals. */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return String(value);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export function renderTable(rows: readonly TableRow[]): string {
  const headers: TableRow = {
    scenario: 'scenario',
    metric: 'metric',
    value: 'value',
    baseline: 'baseline',
    ratio: 'ratio',
    goal: 'goal',
  };
  const columns = Object.keys(headers) as (keyof TableRow)[];
  const numeric = new Set<keyof TableRow>(['value', 'ratio']);
  const widths = columns.map((c) => Math.max(headers[c].length, ...rows.map((r) => r[c].length)));
  const line = (r: TableRow) =>
    columns
      .map((c, i) => (numeric.has(c) ? r[c].padStart(widths[i]!) : r[c].padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(headers), rule, ...rows.map(line)].join('\n');
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
  let existing: Record<string, unknown> = {};
  if (existsSync(path)) {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      existing = parsed as Record<string, unknown>;
    } else {
      throw new Error(`${path} does not hold a JSON object; refusing to overwrite it`);
    }
  }
  const merged = { ...existing, machine, [scenario]: result };
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(merged, null, 2)}\n`);
  await rename(tmp, path);
}
