// CPU time of processes the benchmark does not run itself (Postgres backends serving its
// connections), read from /proc/<pid>/stat. Linux only; elsewhere every reading is NaN, like the
// machine-wide figures in cpu-meter.ts.
import { readFile } from 'node:fs/promises';
import { USER_HZ } from './cpu-meter.js';

/** User + system CPU seconds of one process since it started; undefined once it is gone. */
async function processCpuS(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return process.platform === 'linux' ? undefined : Number.NaN;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name: state(3) ppid ... utime is field 14, stime field 15 of the full line.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / USER_HZ;
}

/** CPU seconds per pid, for the pids that still exist. */
export async function processesCpuS(pids: readonly number[]): Promise<Map<number, number>> {
  const readings = await Promise.all(pids.map(async (pid) => [pid, await processCpuS(pid)] as const));
  const out = new Map<number, number>();
  for (const [pid, s] of readings) if (s !== undefined) out.set(pid, s);
  return out;
}

/**
 * CPU seconds a set of processes used between two readings. A process seen only at the end
 * started inside the window and counts in full; one seen only at the start ended inside it and
 * its last stretch is lost (it reads low, never high).
 */
export function cpuDeltaS(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}
