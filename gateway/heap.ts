// How far V8 lets the heap grow past what its last full collection left alive, while a CSV import
// runs. By default V8 picks a factor of up to 4 from how fast it collects: a process whose live
// heap is 60 MB can sit at 240 MB of uncollected garbage before the next full collection. An
// import is the gateway's largest source of such garbage: every row lives across the import's
// pipelined steps, survives the young generation and is promoted, so a million-row import peaked
// at ~360 MiB resident although it holds one batch per step, the file's dedupe table and the
// phone memo. Capped at 100 % (a factor of 2) it peaks at ~266 MiB, rows/s unchanged within the
// noise (bench/README "import"). Only while an import runs: the same cap all the time cost the
// offer path ~12 % more CPU per call and a higher offer p99 (more full collections of the
// sessions' promoted garbage), so outside imports V8 decides.
import v8 from 'node:v8';

/** IMPORT_HEAP_GROWTH_PERCENT's default (gateway/config.ts). */
export const DEFAULT_IMPORT_HEAP_GROWTH_PERCENT = 100;

/** V8's flag: read at every full collection, so a change holds from the next one on. */
const setGrowth = (percent: number) => v8.setFlagsFromString(`--heap-growing-percent=${percent}`);

/**
 * Holds of the cap, counted so concurrent imports share it: the first sets it, the last one's
 * release gives V8 its own heuristics back (0). `set` is V8's flag (replaced in tests).
 */
export function heapGrowthHolds(set: (percent: number) => void = setGrowth) {
  let holders = 0;
  return {
    /** Cap growth at `percent` (0: no cap, nothing held) until the returned release is called. */
    hold(percent: number): () => void {
      if (percent <= 0) return () => undefined;
      if (holders++ === 0) set(percent);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--holders === 0) set(0);
      };
    },
    get holders() {
      return holders;
    },
  };
}

const holds = heapGrowthHolds();

/** Cap the process's heap growth at `percent` until the returned release is called (see above). */
export const holdHeapGrowth = (percent: number): (() => void) => holds.hold(percent);
