// The heap probe's devices (heap-probe.ts): socket.io-client sockets in a process of their own,
// opened 50 at a time on request and closed on request.
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';

interface Request {
  readonly url?: string;
  readonly auths?: readonly Record<string, string>[];
  readonly close?: boolean;
}

const sockets: Socket[] = [];

async function open(url: string, auths: readonly Record<string, string>[]): Promise<void> {
  for (let i = 0; i < auths.length; i += 50) {
    await Promise.all(
      auths.slice(i, i + 50).map(
        (auth) =>
          new Promise<void>((resolve, reject) => {
            const s = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
            s.once('connect', () => {
              sockets.push(s);
              resolve();
            });
            s.once('connect_error', reject);
          }),
      ),
    );
  }
}

process.on('message', (m: Request) => {
  const done = m.close
    ? Promise.resolve(sockets.splice(0).forEach((s) => s.close()))
    : open(m.url ?? '', m.auths ?? []);
  done.then(
    () => process.send?.('ok'),
    (err: unknown) => {
      process.stderr.write(`heap probe client: ${String(err)}\n`);
      process.exit(1);
    },
  );
});
