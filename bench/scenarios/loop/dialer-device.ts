// A simulated device of the BullMQ dialer: one cycle is `ready` -> `offer`, answered with the
// call's outcome in the acknowledgement. The server then writes the outcome and completes the job
// on its own; the device cannot see that, so the dialer's calls are counted on the server.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import type { DialerClientEvents, DialerServerEvents } from './baseline-events.js';
import type { Agent } from './driver.js';
import type { Recorder } from './recorder.js';

export type DialerSocket = Socket<DialerServerEvents, DialerClientEvents>;

export class DialerDevice implements Agent {
  busy = false;
  #intendedAt = 0;
  #sentAt = 0;
  readonly #socket: DialerSocket;

  constructor(socket: DialerSocket, rec: Recorder, done: (agent: Agent) => void) {
    this.#socket = socket;
    socket.on('offer', (_job, ack) => {
      const now = performance.now();
      ack({ outcome: 'answered', durationSec: 30 });
      if (!this.busy) {
        rec.error('offer outside a cycle');
        return;
      }
      rec.offered(now, this.#intendedAt, this.#sentAt);
      rec.completed(now, this.#intendedAt);
      this.busy = false;
      done(this);
    });
  }

  begin(intendedAt: number): void {
    this.busy = true;
    this.#intendedAt = intendedAt;
    this.#sentAt = performance.now();
    this.#socket.emit('ready');
  }
}
