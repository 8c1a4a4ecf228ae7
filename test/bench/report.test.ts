// The pieces of the bench that turn measurements into something people read: histograms merged
// across worker processes, rows that say which way is better and what they measure, the scenario
// registry, and a report that renders from JSON alone.
import { describe, expect, it } from 'vitest';
import { latencyByPercentile } from '../../bench/lib/charts.js';
import {
  encodeHistogram,
  mergeHistograms,
  newHistogram,
  recordMs,
  summarizeHistogram,
} from '../../bench/lib/hdr.js';
import { loadScenarios } from '../../bench/lib/registry.js';
import { BLOCK_END, BLOCK_START, performanceBlock, replaceBlock } from '../../bench/lib/readme-block.js';
import { renderHtml, renderMarkdown } from '../../bench/lib/report-doc.js';
import { renderTable, tableRow } from '../../bench/lib/report.js';
import { percentile } from '../../bench/lib/stats.js';

describe('histograms merged across workers', () => {
  it('the merged percentiles are those of all samples together, not an average of per-worker ones', () => {
    // Worker A is fast, worker B slow: averaging their p99s would be wrong either way.
    const a = newHistogram();
    const b = newHistogram();
    const all: number[] = [];
    for (let i = 1; i <= 990; i++) {
      recordMs(a, i / 100);
      all.push(i / 100);
    }
    for (let i = 1; i <= 10; i++) {
      recordMs(b, 100 + i);
      all.push(100 + i);
    }
    const merged = summarizeHistogram(mergeHistograms([encodeHistogram(a), encodeHistogram(b)]));
    all.sort((x, y) => x - y);
    expect(merged.count).toBe(1000);
    // HDR keeps 3 significant digits.
    expect(merged.p50_ms).toBeCloseTo(percentile(all, 50), 1);
    expect(merged.p99_ms).toBeCloseTo(percentile(all, 99), 1);
    expect(merged.max_ms).toBeCloseTo(110, 0);
  });

  it('a percentile series rises with the percentile', () => {
    const h = newHistogram();
    for (let i = 1; i <= 1000; i++) recordMs(h, i);
    const s = latencyByPercentile('x', h);
    const ys = s.points.map((p) => p[1]);
    expect(ys).toEqual([...ys].sort((x, y) => x - y));
    expect(s.points[0]![0]).toBe(0);
  });
});

describe('rows', () => {
  it('a ratio without the direction that is better is refused', () => {
    expect(() => tableRow('x', { metric: 'm', value: '1', ratio: '2x', explain: 'e' })).toThrow(/better/);
  });

  it('a row without an explanation is refused', () => {
    expect(() => tableRow('x', { metric: 'm', value: '1', explain: ' ' })).toThrow(/explained/);
  });

  it('the terminal table says which way each ratio is better and explains every row', () => {
    const rows = [
      tableRow('loop', {
        metric: 'calls/s',
        value: '10',
        baseline: '5',
        ratio: '2.00x',
        better: 'higher',
        explain: 'calls per second',
      }),
      tableRow('loop', {
        metric: 'p99 ms',
        value: '4',
        baseline: '8',
        ratio: '0.50x',
        better: 'lower',
        explain: 'slowest 1%',
      }),
    ];
    const text = renderTable(rows);
    expect(text).toContain('2.00x (higher is better)');
    expect(text).toContain('0.50x (lower is better)');
    expect(text).toContain('calls/s: calls per second');
    expect(text).toContain('p99 ms: slowest 1%');
  });
});

describe('the scenario registry', () => {
  it('finds every scenario file, each with a one-line summary', async () => {
    const scenarios = await loadScenarios();
    const names = scenarios.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['engine', 'persist', 'loop', 'connections', 'floor']));
    for (const s of scenarios) {
      expect(s.summary.length).toBeGreaterThan(10);
      expect(s.summary).not.toContain('\n');
    }
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the report', () => {
  const doc = {
    machine: {
      cpus: 2,
      cpuModel: 'test cpu',
      memGiB: 4,
      node: 'v20',
      redis: '7',
      postgres: '15',
      os: 'Linux',
      loadAvg: [1, 1, 1],
      otherCoresBusy: 0.1,
      commit: 'abc',
      date: '2026-11-29',
    },
    loop: {
      metrics: { calls_per_s: 10 },
      ratios: { vs_socketio: 0.2 },
      rows: [
        tableRow('loop', {
          metric: 'calls/s <fast>',
          value: '10',
          baseline: '50',
          ratio: '0.20x',
          better: 'higher',
          goal: '>= 0.4x (missed)',
          explain: 'calls per second & more',
        }),
      ],
      charts: [
        {
          kind: 'bars',
          title: 'throughput',
          yLabel: 'per s',
          groups: ['a', 'b'],
          series: [{ name: 'per s', values: [10, 50] }],
        },
        {
          kind: 'lines',
          title: 'latency',
          xLabel: 'p',
          yLabel: 'ms',
          series: [
            {
              name: 'x',
              points: [
                [0, 1],
                [1, 2],
                [2, 5],
              ],
            },
          ],
        },
      ],
      notes: ['a note'],
    },
    engine: { metrics: { dialhub_cycles_per_s: 5 }, ratios: { vs_bullmq: 1.1 }, config: {} },
    import: { error: 'boom' },
  };

  it('HTML: one self-contained file with tables, charts, explanations and the machine', () => {
    const html = renderHtml(doc);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
    expect(html).toContain('calls/s &lt;fast&gt;');
    expect(html).toContain('calls per second &amp; more');
    expect(html).toContain('0.20x (higher is better)');
    expect(html).toContain('<span class="missed">(missed)</span>');
    expect(html).toContain('test cpu');
    expect(html).toContain('Failed: boom');
    // A result file written before rows existed still renders its metrics.
    expect(html).toContain('dialhub_cycles_per_s');
  });

  it('Markdown: the same tables with the explanation column', () => {
    const md = renderMarkdown(doc);
    expect(md).toContain('## loop');
    expect(md).toContain('| measure | dialhub | baseline | ratio | goal | what it measures |');
    expect(md).toContain('calls per second & more');
    expect(md).toContain('medians');
  });
});

describe("README's performance table", () => {
  const doc = {
    machine: {
      cpus: 2,
      cpuModel: 'cpu',
      memGiB: 4,
      node: 'v20',
      redis: '7',
      postgres: '15',
      otherCoresBusy: 0,
      commit: 'abc',
      date: '2026-11-29T00:00:00Z',
    },
    floor: {
      metrics: {},
      ratios: {},
      rows: [
        tableRow('floor', {
          metric: 'calls per hour',
          value: '9,000',
          baseline: '10,000',
          ratio: '0.90x',
          better: 'higher',
          explain: 'x',
        }),
        tableRow('floor', { metric: '  sub-row', value: '1', explain: 'detail for the full report' }),
      ],
    },
  };

  it('holds the headline rows of every scenario, the machine and the command, between the markers', () => {
    const readme = `# x\n\n## Performance\n\nintro\n\n${BLOCK_START}\nold table\n${BLOCK_END}\n\nafter\n`;
    const next = replaceBlock(readme, performanceBlock(doc, 'bench/results/reference.json'));
    expect(next).toContain('intro');
    expect(next).toContain('after');
    expect(next).not.toContain('old table');
    expect(next).toContain('| `floor` | calls per hour | 9,000 | 10,000 | 0.90x (higher is better) |');
    expect(next).not.toContain('sub-row');
    expect(next).toContain('npm run bench -- floor --json bench/results/reference.json');
    // Regenerating is stable.
    expect(replaceBlock(next, performanceBlock(doc, 'bench/results/reference.json'))).toBe(next);
  });

  it('a README without the markers is an error, not a silent no-op', () => {
    expect(() => replaceBlock('# x\n', 'block')).toThrow(/markers/);
  });
});
