// Charts drawn as inline SVG from the chart data scenarios put in their JSON (charts.ts): no
// script, no network, so the HTML report opens anywhere, from a file, years later.
import type { Chart, Series } from './charts.js';

const W = 640;
const H = 300;
const M = { top: 34, right: 16, bottom: 46, left: 64 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** About five round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

const num = (v: number) =>
  Math.abs(v) >= 1000
    ? v.toLocaleString('en-US', { maximumFractionDigits: 0 })
    : String(Number(v.toPrecision(3)));

function frame(title: string, body: string, legend: readonly string[]): string {
  const items = legend
    .map(
      (name, i) =>
        `<rect x="${M.left + i * 150}" y="${H - 14}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>` +
        `<text x="${M.left + i * 150 + 14}" y="${H - 5}" font-size="11">${escapeHtml(name)}</text>`,
    )
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" font-family="sans-serif">` +
    `<title>${escapeHtml(title)}</title>` +
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escapeHtml(title)}</text>` +
    body +
    items +
    '</svg>'
  );
}

function yAxis(yMax: number, label: string, y: (v: number) => number): string {
  return (
    ticks(0, yMax)
      .map(
        (t) =>
          `<line x1="${M.left}" x2="${W - M.right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>` +
          `<text x="${M.left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="10">${num(t)}</text>`,
      )
      .join('') +
    `<text x="14" y="${(M.top + H - M.bottom) / 2}" font-size="11" transform="rotate(-90 14 ${(M.top + H - M.bottom) / 2})" text-anchor="middle">${escapeHtml(label)}</text>`
  );
}

function lines(chart: Extract<Chart, { kind: 'lines' }>): string {
  const pts = chart.series.flatMap((s: Series) => s.points);
  if (pts.length === 0) return frame(chart.title, '<text x="50%" y="50%">no samples</text>', []);
  const xs = pts.map((p) => p[0]);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs, xMin + 1e-9);
  const yMax = Math.max(...pts.map((p) => p[1]), 1e-9) * 1.05;
  const x = (v: number) => M.left + ((v - xMin) / (xMax - xMin)) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const xTicks =
    chart.xTicks?.filter(([v]) => v >= xMin && v <= xMax) ??
    ticks(xMin, xMax).map((t) => [t, num(t)] as const);
  const xAxis =
    xTicks
      .map(
        ([v, label]) =>
          `<text x="${x(v)}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${escapeHtml(label)}</text>`,
      )
      .join('') +
    `<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 28}" text-anchor="middle" font-size="11">${escapeHtml(chart.xLabel)}</text>`;
  const paths = chart.series
    .map(
      (s, i) =>
        `<polyline fill="none" stroke-width="2" stroke="${COLORS[i % COLORS.length]}" points="${s.points
          .map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
          .join(' ')}"/>`,
    )
    .join('');
  return frame(
    chart.title,
    yAxis(yMax, chart.yLabel, y) + xAxis + paths,
    chart.series.map((s) => s.name),
  );
}

function bars(chart: Extract<Chart, { kind: 'bars' }>): string {
  const values = chart.series.flatMap((s) => s.values).filter(Number.isFinite);
  const yMax = Math.max(...values, 1e-9) * 1.1;
  const y = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const groupW = (W - M.left - M.right) / Math.max(1, chart.groups.length);
  const barW = (groupW * 0.7) / Math.max(1, chart.series.length);
  const body = chart.groups
    .map((g, gi) => {
      const gx = M.left + gi * groupW + groupW * 0.15;
      const rects = chart.series
        .map((s, si) => {
          const v = s.values[gi] ?? Number.NaN;
          if (!Number.isFinite(v)) return '';
          const bx = gx + si * barW;
          return (
            `<rect x="${bx.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(H - M.bottom - y(v)).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${escapeHtml(`${s.name} ${g}: ${num(v)}`)}</title></rect>` +
            `<text x="${(bx + barW / 2).toFixed(1)}" y="${(y(v) - 3).toFixed(1)}" text-anchor="middle" font-size="9">${num(v)}</text>`
          );
        })
        .join('');
      return (
        rects +
        `<text x="${(gx + (groupW * 0.7) / 2).toFixed(1)}" y="${H - M.bottom + 14}" text-anchor="middle" font-size="10">${escapeHtml(g)}</text>`
      );
    })
    .join('');
  const legend = chart.series.length > 1 ? chart.series.map((s) => s.name) : [];
  return frame(chart.title, yAxis(yMax, chart.yLabel, y) + body, legend);
}

export function renderSvg(chart: Chart): string {
  switch (chart.kind) {
    case 'lines':
      return lines(chart);
    case 'bars':
      return bars(chart);
    default: {
      const never: never = chart;
      throw new Error(`unknown chart ${JSON.stringify(never)}`);
    }
  }
}
