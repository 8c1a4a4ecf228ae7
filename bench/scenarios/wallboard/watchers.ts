// The wallboard scenario's supervisor clients, in a process of their own (so their CPU is not the
// gateway's): N socket.io-client sockets on one namespace, each counting the frames and bytes it
// receives, and the lag of every agent tile in them (receive time minus the tile's `since`, which
// the driver sets to the moment it produced the state change). Lags go into a 1-ms histogram.
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { FloorDecoder } from '../../../gateway/supervisor/protocol.js';
import type { AgentsFrame, SnapshotFrame } from '../../../gateway/supervisor/protocol.js';
import { serve } from '../loop/ipc.js';

export interface WatchersApi {
  connect(arg: { url: string; namespace: string; count: number; token: string }): Promise<number>;
  /** Start counting from zero (after the warm-up). */
  reset(): Promise<null>;
  report(): Promise<WatchReport>;
  close(): Promise<null>;
  shutdown(): Promise<null>;
}

export interface WatchReport {
  readonly frames: number;
  readonly bytes: number;
  readonly tiles: number;
  /** lagCounts[ms] = tiles received that many ms after their change (the last bucket: longer). */
  readonly lagCounts: number[];
  readonly gaps: number;
  readonly elapsedMs: number;
}

const LAG_BUCKETS = 10_000;
let sockets: Socket[] = [];
let frames = 0;
let bytes = 0;
let tiles = 0;
let gaps = 0;
let lagCounts = new Array<number>(LAG_BUCKETS).fill(0);
let since = Date.now();

function tile(t: { since: number | null }): void {
  if (t.since === null) return;
  tiles++;
  const lag = Math.max(0, Date.now() - t.since);
  lagCounts[Math.min(LAG_BUCKETS - 1, Math.floor(lag))]!++;
}

serve<WatchersApi>({
  async connect({ url, namespace, count, token }) {
    const opened = await Promise.all(
      Array.from(
        { length: count },
        () =>
          new Promise<Socket>((resolve, reject) => {
            const s = io(`${url}${namespace}`, {
              transports: ['websocket'],
              reconnection: false,
              forceNew: true,
              auth: { token },
            });
            s.once('connect', () => resolve(s));
            s.once('connect_error', reject);
          }),
      ),
    );
    sockets = opened;
    for (const s of opened) {
      // Bytes as received from the wire (engine.io packets, before parsing).
      s.io.engine.on('data', (d: unknown) => {
        bytes += typeof d === 'string' ? Buffer.byteLength(d) : (d as ArrayBuffer).byteLength;
      });
      let seq = 0;
      const decoder = new FloorDecoder();
      const sequenced = (f: { seq: number }) => {
        if (seq !== 0 && f.seq !== seq + 1) gaps++;
        seq = f.seq;
        frames++;
      };
      s.on('floor:snapshot', (f: SnapshotFrame) => {
        seq = f.seq;
        decoder.snapshot(f);
      });
      // Decoded as the page decodes (the compact deltas back into tiles): its cost is the client's.
      s.on('floor:agents', (f: AgentsFrame) => {
        sequenced(f);
        for (const a of decoder.agents(f)) tile(a);
      });
      s.on('floor:counters', (f: { seq: number }) => sequenced(f));
      // The naive baseline: one frame per change.
      s.on('agent', (a: { since: number | null }) => {
        frames++;
        tile(a);
      });
      if (namespace === '/supervisor') {
        await new Promise<void>((resolve, reject) =>
          s.emit('floor:subscribe', {}, (ack: { ok: boolean }) =>
            ack.ok ? resolve() : reject(new Error('subscribe refused')),
          ),
        );
      }
    }
    return opened.length;
  },
  reset() {
    frames = 0;
    bytes = 0;
    tiles = 0;
    gaps = 0;
    lagCounts = new Array<number>(LAG_BUCKETS).fill(0);
    since = Date.now();
    return Promise.resolve(null);
  },
  report() {
    return Promise.resolve({ frames, bytes, tiles, lagCounts, gaps, elapsedMs: Date.now() - since });
  },
  close() {
    for (const s of sockets) s.disconnect();
    sockets = [];
    return Promise.resolve(null);
  },
  shutdown() {
    for (const s of sockets) s.disconnect();
    return Promise.resolve(null);
  },
});
