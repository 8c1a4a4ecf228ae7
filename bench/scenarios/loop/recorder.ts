// What an agent worker counts and times: cumulative counters, plus latency histograms for the
// window since the last mark. The orchestrator marks at the start and end of each measurement
// window, so the histograms it keeps hold exactly that window's samples.
import { encodeHistogram, newHistogram, recordMs } from '../../lib/hdr.js';
import type { WorkerMark } from './api.js';

const KEPT_ERRORS = 5;

export class Recorder {
  calls = 0;
  offers = 0;
  errors = 0;
  /** Socket.IO messages (engine.io 'message' packets, not pings) from and to the server. */
  messagesIn = 0;
  messagesOut = 0;
  readonly #errorSamples: string[] = [];
  readonly #offer = newHistogram();
  readonly #offerFromSend = newHistogram();
  readonly #cycle = newHistogram();

  error(message: string): void {
    this.errors++;
    if (this.#errorSamples.length < KEPT_ERRORS) this.#errorSamples.push(message);
  }

  /** An offer arrived: `intendedAt` and `sentAt` are performance.now() readings of the ready. */
  offered(now: number, intendedAt: number, sentAt: number): void {
    this.offers++;
    recordMs(this.#offer, now - intendedAt);
    recordMs(this.#offerFromSend, now - sentAt);
  }

  /** A cycle ended (its call acknowledged). */
  completed(now: number, intendedAt: number): void {
    this.calls++;
    recordMs(this.#cycle, now - intendedAt);
  }

  mark(): WorkerMark {
    const cpu = process.cpuUsage();
    const histograms = {
      offer: encodeHistogram(this.#offer),
      offerFromSend: encodeHistogram(this.#offerFromSend),
      cycle: encodeHistogram(this.#cycle),
    };
    for (const h of [this.#offer, this.#offerFromSend, this.#cycle]) h.reset();
    return {
      cpuUs: cpu.user + cpu.system,
      calls: this.calls,
      offers: this.offers,
      errors: this.errors,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      errorSamples: [...this.#errorSamples],
      histograms,
    };
  }
}
