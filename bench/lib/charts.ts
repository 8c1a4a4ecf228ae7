// Charts as data: a scenario puts what it wants drawn into its JSON (`charts`), and the report
// draws it (report-html.ts renders SVG), so a report can be rebuilt from any saved JSON without
// running anything again.
import type { Histogram } from 'hdr-histogram-js';
import { round } from './stats.js';

export interface Series {
  readonly name: string;
  /** [x, y] pairs, x ascending. */
  readonly points: readonly (readonly [number, number])[];
}

export type Chart =
  | {
      readonly kind: 'lines';
      readonly title: string;
      readonly xLabel: string;
      readonly yLabel: string;
      /** Custom x tick labels at given x values (e.g. percentiles on a log axis). */
      readonly xTicks?: readonly (readonly [number, string])[];
      readonly series: readonly Series[];
    }
  | {
      readonly kind: 'bars';
      readonly title: string;
      readonly yLabel: string;
      readonly groups: readonly string[];
      readonly series: readonly { readonly name: string; readonly values: readonly number[] }[];
    };

/** Percentiles drawn on an HDR-style axis: x = log10(1 / (1 - p)), so 90% is 1, 99% 2, 99.9% 3. */
export const PERCENTILE_TICKS: readonly (readonly [number, string])[] = [
  [0, '0%'],
  [1, '90%'],
  [2, '99%'],
  [3, '99.9%'],
  [4, '99.99%'],
];

const PERCENTILES = [0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.75, 99.9, 99.95, 99.99];

/** Latency (ms) by percentile of a histogram recorded in microseconds (bench/lib/hdr.ts). */
export function latencyByPercentile(name: string, h: Histogram): Series {
  if (h.totalCount === 0) return { name, points: [] };
  return {
    name,
    points: PERCENTILES.map(
      (p) => [round(Math.log10(100 / (100 - p)), 3), round(h.getValueAtPercentile(p) / 1000, 3)] as const,
    ),
  };
}
