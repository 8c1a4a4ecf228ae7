// Redis element writes per leased+completed lead, counted from Redis itself: a separate, untimed
// pass runs the same cycle (dispatch, complete, ready again) on a fresh campaign while a MONITOR
// client records every command the server executes, scripts' inner commands included. Each write
// command on one of the campaign's keys counts the elements it adds, changes or removes (HSET
// f v f v = 2, ZADD NX s m = 1, ZREM m m m = 3, ...), so a batch that writes one hash with one
// variadic HSET still counts one write per field. Commands are attributed to the script whose
// EVALSHA the server logged before them, and to the kind of key (`l` leases, `r:*` a ready zset,
// `d:*` a record bucket: the suffixes of engine/keys.ts). The purge of the tombstones completion
// leaves behind is counted separately (deferred, off the cycle). MONITOR slows the server a lot,
// which is why this pass is separate from the timed rounds.
import { createHash } from 'node:crypto';
import type { CampaignRef } from '../../../engine/ids.js';
import { campaignKeys } from '../../../engine/keys.js';
import type { QueueStore } from '../../../engine/queue-store.js';
import { loadScriptSources } from '../../../engine/redis/scripts.js';
import { connectAdmin } from '../../lib/redis-admin.js';
import type { AdminClient } from '../../lib/redis-admin.js';
import type { CpuMeter } from '../../lib/cpu-meter.js';
import { purgeTombstones, runDialhubCycles, tombstoneCount } from './dialhub-cycles.js';

export interface WriteCount {
  readonly cycles: number;
  /** Element writes per cycle (dispatch, completion, ready again). */
  readonly perCycle: number;
  /** Element writes per purged tombstone (the reaper, after the retention). */
  readonly deferredPerCycle: number;
  /** "<script> <key kind>" -> element writes per cycle. */
  readonly breakdown: Readonly<Record<string, number>>;
  /** The same for the purge. */
  readonly deferredBreakdown: Readonly<Record<string, number>>;
}

const ZADD_FLAGS = new Set(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']);

/** Elements a write command touches, or 0 for a read (args: key, then the rest). */
export function elementWrites(command: string, args: readonly string[]): number {
  const rest = args.length - 1;
  switch (command) {
    case 'HSET':
    case 'HMSET':
    case 'MSET':
      return command === 'MSET' ? args.length / 2 : rest / 2;
    case 'HDEL':
    case 'ZREM':
    case 'SADD':
    case 'SREM':
    case 'LPUSH':
    case 'RPUSH':
      return rest;
    case 'ZADD': {
      let i = 1;
      while (i < args.length && ZADD_FLAGS.has(args[i]!.toUpperCase())) i++;
      return (args.length - i) / 2;
    }
    case 'HSETNX':
    case 'HINCRBY':
    case 'HINCRBYFLOAT':
    case 'ZINCRBY':
    case 'SET':
    case 'INCR':
    case 'INCRBY':
    case 'PEXPIRE':
    case 'EXPIRE':
      return 1;
    case 'DEL':
    case 'UNLINK':
      return args.length;
    default:
      return 0;
  }
}

/** The quoted arguments of one MONITOR line: `<time> [<db> <client>] "CMD" "arg" ...`. */
export function monitorArgs(line: string): { client: string; argv: string[] } | null {
  const m = /^\S+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!m) return null;
  const argv: string[] = [];
  for (const t of m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)) argv.push(t[1]!.replace(/\\(["\\])/g, '$1'));
  return { client: m[1]!, argv };
}

const kindOf = (suffix: string) => suffix.replace(/^([rpdnh]):.*$/, '$1:*');

/**
 * Run `leads` cycles on `ref` (fresh, defined, the caller drops it) under MONITOR, then purge its
 * tombstones, and count the element writes of each phase.
 */
export async function countWrites(
  redisUrl: string,
  admin: AdminClient,
  keyPrefix: string,
  store: QueueStore,
  ref: CampaignRef,
  s: {
    leads: number;
    agents: number;
    maxPairs: number;
    concurrency: number;
    offerTtlMs: number;
    enqueueBatch: number;
    retentionMs: number;
    signal: AbortSignal;
    meter: CpuMeter;
  },
): Promise<WriteCount> {
  const base = campaignKeys(keyPrefix, ref).base;
  const shaName = new Map(
    loadScriptSources().map((src) => [createHash('sha1').update(src.source).digest('hex'), src.name]),
  );
  const monitor = await connectAdmin(redisUrl);
  const marker = `dialhub-write-count-${process.pid}-${Date.now()}`;
  let phase: 'idle' | 'cycle' | 'purge' = 'idle';
  let script = '';
  let waiting: { token: string; resolve: () => void } | null = null;
  const counts = { cycle: new Map<string, number>(), purge: new Map<string, number>() };
  /** Switch phase at a point of the server's own order: an ECHO the monitor sees in sequence. */
  const switchTo = async (next: typeof phase) => {
    const token = `${marker}-${next}`;
    const seen = new Promise<void>((resolve) => (waiting = { token, resolve }));
    await admin.sendCommand(['ECHO', token]);
    await seen;
  };
  try {
    await monitor.monitor((line: string) => {
      const parsed = monitorArgs(line);
      if (!parsed) return;
      const [cmd, ...args] = parsed.argv;
      if (!cmd) return;
      const command = cmd.toUpperCase();
      if (command === 'ECHO' && waiting && args[0] === waiting.token) {
        phase = waiting.token.slice(marker.length + 1) as typeof phase;
        waiting.resolve();
        waiting = null;
        return;
      }
      if (phase === 'idle') return;
      if (parsed.client !== 'lua') {
        script = command === 'EVALSHA' ? (shaName.get(args[0] ?? '') ?? 'evalsha?') : command.toLowerCase();
        if (command === 'EVALSHA' || command === 'EVAL') return;
      }
      const key = args[0];
      if (key === undefined || !key.startsWith(base)) return;
      const n = elementWrites(command, args);
      if (n === 0) return;
      const label = `${script} ${kindOf(key.slice(base.length))}`;
      const map = counts[phase];
      map.set(label, (map.get(label) ?? 0) + n);
    });
    // The fill and the first "ready" of every agent are left out: counting starts at the cycles.
    const cycles = await runDialhubCycles(store, ref, { ...s, onStart: () => switchTo('cycle') });
    await switchTo('purge');
    const keys = campaignKeys(keyPrefix, ref);
    await purgeTombstones(store, ref, s.retentionMs, () => tombstoneCount(admin, keys));
    await switchTo('idle');
    const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    const perCycle = (m: Map<string, number>) =>
      Object.fromEntries(
        [...m.entries()].sort().map(([k, v]) => [k, Math.round((v / cycles.cycles) * 1000) / 1000]),
      );
    return {
      cycles: cycles.cycles,
      perCycle: total(counts.cycle) / cycles.cycles,
      deferredPerCycle: total(counts.purge) / cycles.cycles,
      breakdown: perCycle(counts.cycle),
      deferredBreakdown: perCycle(counts.purge),
    };
  } finally {
    await monitor.close();
  }
}
