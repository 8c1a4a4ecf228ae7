// The report people read: built from a results document (the --json file, or the results of the
// run in memory), so it can be rebuilt from any saved JSON without running anything. HTML (one
// self-contained file: tables, SVG charts, notes) and Markdown (the tables, for a PR or an issue).
import type { Chart } from './charts.js';
import type { MachineInfo } from './machine.js';
import { ratioText } from './report.js';
import type { TableRow } from './report.js';
import { escapeHtml, renderSvg } from './svg-chart.js';

/** What a results document holds per scenario, as far as the report is concerned. */
interface ScenarioBlock {
  readonly metrics: Readonly<Record<string, number>>;
  readonly ratios: Readonly<Record<string, number>>;
  readonly rows?: readonly TableRow[];
  readonly charts?: readonly Chart[];
  readonly notes?: readonly string[];
  readonly error?: string;
}

const isBlock = (v: unknown): v is ScenarioBlock =>
  v !== null && typeof v === 'object' && ('metrics' in v || 'error' in v);

export const NOISE_NOTE =
  'Figures come from a shared machine: the bench measures who else used the CPU in each window, repeats disturbed rounds (up to a bound, counted in each table) and quotes medians; compare the ratios against the baselines of the same run rather than absolute numbers across runs.';

function scenarios(doc: Readonly<Record<string, unknown>>): [string, ScenarioBlock][] {
  return Object.entries(doc).filter((e): e is [string, ScenarioBlock] => e[0] !== 'machine' && isBlock(e[1]));
}

/** Rows of a scenario; a block written before rows were stored gets its metrics and ratios listed. */
function rowsOf(name: string, b: ScenarioBlock): TableRow[] {
  if (b.rows) return [...b.rows];
  const plain = (metric: string, value: number, better: TableRow['better']): TableRow => ({
    scenario: name,
    metric,
    value: String(value),
    baseline: '',
    ratio: '',
    better,
    goal: '',
    explain: 'from a result file written before rows were recorded: see the scenario in bench/README.md',
  });
  return [
    ...Object.entries(b.metrics ?? {}).map(([k, v]) => plain(k, v, '')),
    ...Object.entries(b.ratios ?? {}).map(([k, v]) => plain(`ratio ${k}`, v, '')),
  ];
}

const machineLine = (m: MachineInfo | undefined): string =>
  m === undefined
    ? 'machine not recorded'
    : `${m.cpus} x ${m.cpuModel}, ${m.memGiB} GiB, Node ${m.node}, Redis ${m.redis}, Postgres ${m.postgres ?? '?'}, ` +
      `${m.os}; load ${(m.loadAvg ?? []).join(' / ')}, other processes busy ${m.otherCoresBusy ?? '?'} cores at start; ` +
      `code ${m.commit ?? '?'}; ${m.date}`;

const mdCell = (s: string) => s.replace(/\|/g, '\\|').trim();

/** A Markdown table of rows (scenario column included when `withScenario`). */
export function markdownTable(rows: readonly TableRow[], withScenario = false, withExplain = true): string {
  const head = [
    ...(withScenario ? ['scenario'] : []),
    'measure',
    'dialhub',
    'baseline',
    'ratio',
    'goal',
    ...(withExplain ? ['what it measures'] : []),
  ];
  const lines = [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`];
  for (const r of rows) {
    const cells = [
      ...(withScenario ? [`\`${r.scenario}\``] : []),
      r.metric,
      r.value,
      r.baseline,
      ratioText(r),
      r.goal,
      ...(withExplain ? [r.explain] : []),
    ];
    lines.push(`| ${cells.map(mdCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

export function renderMarkdown(doc: Readonly<Record<string, unknown>>): string {
  const out = [
    '# dialhub bench report',
    '',
    `Machine: ${machineLine(doc['machine'] as MachineInfo | undefined)}.`,
    '',
    NOISE_NOTE,
    '',
  ];
  for (const [name, block] of scenarios(doc)) {
    out.push(`## ${name}`, '');
    if (block.error) {
      out.push(`Failed: ${block.error}`, '');
      continue;
    }
    out.push(markdownTable(rowsOf(name, block)), '');
    if ((block.charts ?? []).length > 0)
      out.push(`Charts: ${block.charts!.map((c) => c.title).join('; ')} (in the HTML report).`, '');
    for (const n of block.notes ?? []) out.push(`- ${n}`);
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.x{color:#555;font-size:12px}.met{color:#1a7f37}.missed{color:#b42318}.charts{display:flex;flex-wrap:wrap;gap:1em}
.note{color:#555;font-size:13px}code{background:#f4f4f4;padding:0 3px}`;

function goalHtml(goal: string): string {
  return escapeHtml(goal)
    .replace(/\(met\)/g, '<span class="met">(met)</span>')
    .replace(/\(missed\)/g, '<span class="missed">(missed)</span>');
}

export function renderHtml(doc: Readonly<Record<string, unknown>>): string {
  const parts = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>dialhub bench report</title>',
    `<style>${STYLE}</style></head><body>`,
    '<h1>dialhub bench report</h1>',
    `<p>${escapeHtml(machineLine(doc['machine'] as MachineInfo | undefined))}</p>`,
    `<p class="note">${escapeHtml(NOISE_NOTE)}</p>`,
  ];
  const list = scenarios(doc);
  parts.push(
    `<p>Scenarios: ${list.map(([n]) => `<a href="#${escapeHtml(n)}">${escapeHtml(n)}</a>`).join(', ')}</p>`,
  );
  for (const [name, block] of list) {
    parts.push(`<h2 id="${escapeHtml(name)}">${escapeHtml(name)}</h2>`);
    if (block.error) {
      parts.push(`<p class="missed">Failed: ${escapeHtml(block.error)}</p>`);
      continue;
    }
    parts.push(
      '<table><thead><tr><th>measure</th><th>dialhub</th><th>baseline</th><th>ratio</th><th>goal</th><th>what it measures</th></tr></thead><tbody>',
    );
    for (const r of rowsOf(name, block)) {
      parts.push(
        `<tr><td>${escapeHtml(r.metric)}</td><td class="n">${escapeHtml(r.value)}</td><td class="n">${escapeHtml(r.baseline)}</td>` +
          `<td class="n">${escapeHtml(ratioText(r))}</td><td>${goalHtml(r.goal)}</td><td class="x">${escapeHtml(r.explain)}</td></tr>`,
      );
    }
    parts.push('</tbody></table>');
    if ((block.charts ?? []).length > 0)
      parts.push(`<div class="charts">${block.charts!.map(renderSvg).join('')}</div>`);
    if ((block.notes ?? []).length > 0) {
      parts.push(`<ul class="note">${block.notes!.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
    }
  }
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}
