// Latency histograms that cross process boundaries. Client processes record into HDR histograms
// (bounded memory, constant-time record, 3 significant digits at any magnitude) and send them to
// the orchestrating process compressed, which merges them: percentiles of the merged histogram
// are the percentiles of all samples, which averaging per-process percentiles would not give.
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { round } from './stats.js';

/** Values are recorded in microseconds (integers), up to a minute before the histogram resizes. */
export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
}

/** Record a duration given in milliseconds (from performance.now() differences). */
export function recordMs(h: Histogram, ms: number): void {
  h.recordValue(Math.max(1, Math.round(ms * 1000)));
}

export const encodeHistogram = (h: Histogram): string => hdr.encodeIntoCompressedBase64(h);

/** Decode and add every encoded histogram into one. */
export function mergeHistograms(encoded: readonly string[]): Histogram {
  const merged = newHistogram();
  for (const e of encoded) merged.add(hdr.decodeFromCompressedBase64(e));
  return merged;
}

export interface HistogramSummary {
  readonly count: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly max_ms: number;
  readonly mean_ms: number;
}

export function summarizeHistogram(h: Histogram): HistogramSummary {
  const ms = (us: number) => (h.totalCount === 0 ? Number.NaN : round(us / 1000, 3));
  return {
    count: h.totalCount,
    p50_ms: ms(h.getValueAtPercentile(50)),
    p90_ms: ms(h.getValueAtPercentile(90)),
    p99_ms: ms(h.getValueAtPercentile(99)),
    p999_ms: ms(h.getValueAtPercentile(99.9)),
    max_ms: ms(h.maxValue),
    mean_ms: ms(h.mean),
  };
}
