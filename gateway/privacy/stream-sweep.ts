// Redis streams keep what was written to them (the Socket.IO streams adapter's stream keeps its
// last ~10,000 broadcasts for connection-state recovery). dialhub's own cross-gateway messages
// (offers, revocations) are server-side emits, which that adapter sends over PUB/SUB and keeps
// nowhere; but an entry that quotes a number, however it got there, would survive an erasure. So
// an erasure also sweeps the deployment's streams and deletes the entries that hold the number.
import type { Logger } from '../logger.js';

/** The Socket.IO streams adapter's stream under a key prefix (main.ts creates it with this name). */
export const adapterStreamName = (keyPrefix: string): string => `${keyPrefix}socket.io`;

/** The few node-redis commands the sweep needs (the store's client has them). */
export interface StreamClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export interface StreamSweeper {
  /** Delete every entry of the streams holding one of the needles; returns how many were deleted. */
  sweep(needles: readonly string[]): Promise<number>;
}

const PAGE = 500;

/**
 * Sweeps the named streams (not a SCAN of the keyspace: that costs a pass over every key of a
 * shared Redis, millions in a busy deployment, on every erasure).
 */
export function createStreamSweeper(
  client: StreamClient,
  streamKeys: readonly string[],
  logger: Logger,
): StreamSweeper {
  return {
    async sweep(needles) {
      if (needles.length === 0) return 0;
      let deleted = 0;
      for (const key of streamKeys) {
        let start = '-';
        for (;;) {
          const entries = ((await client.sendCommand(['XRANGE', key, start, '+', 'COUNT', String(PAGE)])) ??
            []) as [string, unknown[]][];
          const hits = entries
            .filter(([, fields]) => {
              const text = JSON.stringify(fields);
              return needles.some((n) => text.includes(n));
            })
            .map(([id]) => String(id));
          if (hits.length > 0) deleted += Number(await client.sendCommand(['XDEL', key, ...hits]));
          if (entries.length < PAGE) break;
          start = `(${String(entries.at(-1)![0])}`;
        }
      }
      if (deleted > 0) logger.info({ entries: deleted }, 'privacy.stream_entries_erased');
      return deleted;
    },
  };
}
