// What every server under test reports about itself: its CPU and event-loop time (so the
// orchestrator can say how busy it was over a window) and, on request, a V8 CPU profile of a
// window, written as a .cpuprofile file for bench/lib/cpu-profile.ts to summarise.
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

export function createProfiler(): (req: ProfileRequest) => Promise<void> {
  let session: Session | undefined;
  return async (req) => {
    if (req.action === 'start') {
      session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      return;
    }
    if (!session) throw new Error('profile stop without start');
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    session = undefined;
    await writeFile(req.path, JSON.stringify(profile));
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
