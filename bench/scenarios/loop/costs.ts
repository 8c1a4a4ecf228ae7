// What one call costs each system, from the measurement windows: CPU of the server process, of
// Redis and of the Postgres backends serving it (ms per 1,000 calls), Redis script calls and
// commands, Socket.IO messages, the server's write system calls, and outcome rows per commit.
import { median, round } from '../../lib/stats.js';
import type { PhaseResult } from './phase.js';

/** CPU ms per 1,000 calls in a window: the server process, Redis, and its Postgres backends. */
export function cpuPer1k(r: PhaseResult) {
  const per = (s: number) => (s / r.calls) * 1e6;
  const { server, redis, postgres, workers } = r.figures.cpuS;
  return {
    total: per(server + redis + postgres),
    server: per(server),
    redis: per(redis),
    postgres: per(postgres),
    clients: per(workers),
  };
}

/** A total over the windows divided by their calls (so long windows weigh more, as they should). */
function perCall(results: readonly PhaseResult[], f: (r: PhaseResult) => number): number {
  return results.reduce((acc, r) => acc + f(r), 0) / results.reduce((acc, r) => acc + r.calls, 0);
}

/** Script invocations: what the client sent; the commands scripts run inside are counted apart. */
const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro']);

const commandsOf = (r: PhaseResult, keep: (cmd: string) => boolean) =>
  Object.entries(r.commands).reduce((acc, [cmd, c]) => acc + (keep(cmd) ? c.calls : 0), 0);

/** What one call costs a system, over a set of windows (medians for CPU, totals / calls otherwise). */
export function costsOf(rs: readonly PhaseResult[]) {
  const med = (f: (r: PhaseResult) => number) => round(median(rs.map(f)), 1);
  const byCommand = new Map<string, number>();
  for (const r of rs)
    for (const [cmd, c] of Object.entries(r.commands))
      byCommand.set(cmd, (byCommand.get(cmd) ?? 0) + c.calls);
  const calls = rs.reduce((acc, r) => acc + r.calls, 0);
  const batches = rs.reduce((acc, r) => acc + (r.figures.serverCounters['outcome_batches'] ?? 0), 0);
  return {
    cpu_ms_per_1k_calls: {
      server_redis_postgres: med((r) => cpuPer1k(r).total),
      server: med((r) => cpuPer1k(r).server),
      redis: med((r) => cpuPer1k(r).redis),
      postgres_backends: med((r) => cpuPer1k(r).postgres),
      clients: med((r) => cpuPer1k(r).clients),
    },
    server_event_loop_utilization: round(median(rs.map((r) => r.figures.serverLoopUtilization)), 3),
    redis_scripts: round(
      perCall(rs, (r) => commandsOf(r, (c) => SCRIPT_COMMANDS.has(c))),
      3,
    ),
    redis_commands_incl_inside_scripts: round(
      perCall(rs, (r) => commandsOf(r, () => true)),
      2,
    ),
    redis_top_commands: [...byCommand]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([cmd, n]) => ({ cmd, per_call: round(n / calls, 3) })),
    socketio_messages_in: round(
      perCall(rs, (r) => r.figures.messagesIn),
      2,
    ),
    socketio_messages_out: round(
      perCall(rs, (r) => r.figures.messagesOut),
      2,
    ),
    server_write_syscalls: round(
      perCall(rs, (r) => r.figures.serverCounters['write_syscalls'] ?? Number.NaN),
      2,
    ),
    ...(batches > 0 ? { outcome_rows_per_commit: round(calls / batches, 1) } : {}),
  };
}
