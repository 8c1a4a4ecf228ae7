// How far V8 lets the heap grow past what its last full collection left alive. By default V8
// picks a factor of up to 4 from how fast it collects: a process whose live heap is 60 MB can sit
// at 240 MB of uncollected garbage before the next full collection. A gateway importing a
// million-row CSV is that process: every row lives across the import's pipelined steps, survives
// the young generation and is promoted, and the import peaked at ~365 MiB resident (bundle,
// bench/README "import"), although what it holds at any moment is one batch per step, the file's
// dedupe table and the phone memo. With growth capped at 100 % (a factor of 2) it peaks at
// ~255 MiB for ~8 % fewer rows/s; the gateway's offer path, which allocates mostly short-lived
// objects the young generation collects, is not measurably slower (bench/README "import").
import v8 from 'node:v8';

/**
 * Cap the old generation's growth between full collections at `percent` of the live heap (V8's
 * `--heap-growing-percent`, read at each collection, so it holds from here on). 0 leaves V8's own
 * heuristics. Process-wide: call once, at start, from the process's entry point.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
