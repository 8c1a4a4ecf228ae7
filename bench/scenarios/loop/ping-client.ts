// A bare Socket.IO client for the round-trip baseline: one cycle is one `emitWithAck('ping')`,
// so each client keeps exactly one request outstanding in the closed loop.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import type { PingClientEvents } from './baseline-events.js';
import type { Agent } from './driver.js';
import type { Recorder } from './recorder.js';

export type PingSocket = Socket<Record<string, never>, PingClientEvents>;

export class PingClient implements Agent {
  busy = false;
  #n = 0;
  readonly #socket: PingSocket;
  readonly #rec: Recorder;
  readonly #done: (agent: Agent) => void;

  constructor(socket: PingSocket, rec: Recorder, done: (agent: Agent) => void) {
    this.#socket = socket;
    this.#rec = rec;
    this.#done = done;
  }

  begin(intendedAt: number): void {
    this.busy = true;
    // No per-emit timeout, as the devices of the other two systems have none: a timer per round
    // trip would cost client CPU on the cores the server shares. A lost ack shows up as a stuck
    // agent when the phase stops.
    this.#socket
      .emitWithAck('ping', this.#n++)
      .then(
        () => this.#rec.completed(performance.now(), intendedAt),
        (err: unknown) => this.#rec.error(`ping ${err instanceof Error ? err.message : String(err)}`),
      )
      .finally(() => {
        this.busy = false;
        this.#done(this);
      });
  }
}
