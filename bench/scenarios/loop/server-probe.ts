// What every server under test reports about itself: its CPU and event-loop time (so the
// orchestrator can say how busy it was over a window) and, on request, a V8 CPU profile of a
// window, written as a .cpuprofile file for bench/lib/cpu-profile.ts to summarise, with a
// sampling heap profile of the same window beside it (.heapprofile, bench/lib/heap-profile.ts).
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import type { MemoryReading, ProfileRequest, ServerMark } from './api.js';

/**
 * Read and write system calls this process has made (Linux /proc/self/io; NaN elsewhere). Every
 * socket write is one, so writes per call show how many separate messages a call costs on the
 * wire: to devices, to Redis and to Postgres together.
 */
function syscalls(): { read_syscalls: number; write_syscalls: number } {
  try {
    const io = readFileSync('/proc/self/io', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(io)?.[1] ?? Number.NaN);
    return { read_syscalls: field('syscr'), write_syscalls: field('syscw') };
  } catch {
    return { read_syscalls: Number.NaN, write_syscalls: Number.NaN };
  }
}

export function serverMark(completed: number, counters: Record<string, number> = {}): ServerMark {
  const cpu = process.cpuUsage();
  const loop = performance.eventLoopUtilization();
  return {
    cpuUs: cpu.user + cpu.system,
    loopActiveMs: loop.active,
    loopIdleMs: loop.idle,
    completed,
    counters: { ...counters, ...syscalls() },
  };
}

/** One sample per this many bytes allocated, on average (V8's default is 32 KB). */
const HEAP_SAMPLING_BYTES = 8192;

/** Where the heap profile of a window goes: beside its CPU profile. */
export const heapProfilePath = (cpuProfilePath: string): string =>
  cpuProfilePath.replace(/\.cpuprofile$/, '') + '.heapprofile';

export function createProfiler(): (req: ProfileRequest) => Promise<void> {
  let session: Session | undefined;
  return async (req) => {
    if (req.action === 'start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      // Every allocation of the window, the collected ones too: what the garbage collector is
      // given to do, not what happens to be alive at the end.
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: HEAP_SAMPLING_BYTES,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      return;
    }
    if (!session) throw new Error('profile stop without start');
    const { profile } = await session.post('Profiler.stop');
    const { profile: heap } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    session = undefined;
    await writeFile(req.path, JSON.stringify(profile));
    await writeFile(heapProfilePath(req.path), JSON.stringify(heap));
  };
}

/**
 * Memory after a full collection (twice: the first pass frees what finalizers release for the
 * second), so what remains is what the process holds, not garbage it has not collected yet.
 */
export function memoryReading(): Promise<MemoryReading> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return Promise.resolve({
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    collected: gc !== undefined,
  });
}
