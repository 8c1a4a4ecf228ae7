// A simulated dialhub device speaking the real protocol (gateway/protocol). One cycle:
// `agent:ready` -> `call:offer`, acknowledged with `{ accept: true }` to take the call at once ->
// `call:complete` -> its acknowledgement, which the gateway sends only once the outcome is
// committed to Postgres. When the next cycle follows at once (closed loop), the completion carries
// `ready: true` and the gateway puts the agent straight back to ready, as a power-dialing device
// does, so a call is two round trips; the open loop (agents idle between calls) and
// `--ready-event` send a separate `agent:ready` instead.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import type { AgentClientEvents, AgentServerEvents, OfferPayload } from '../../../gateway/protocol/index.js';
import type { LoadMode } from './api.js';
import type { Agent } from './driver.js';
import type { Recorder } from './recorder.js';

export type DialhubSocket = Socket<AgentServerEvents, AgentClientEvents>;

/** After a refused event, wait this long before the next cycle, so an error cannot spin. */
const ERROR_PAUSE_MS = 50;

export class DialhubDevice implements Agent {
  busy = false;
  /** Complete with `ready: true`: in a closed loop, unless told to send `agent:ready` instead. */
  #chain = false;
  readonly #chainAllowed: boolean;
  #intendedAt = 0;
  #sentAt = 0;
  /** The gateway already has this agent ready (its last completion said so). */
  #ready = false;
  /** Waiting for an offer in this cycle (ready sent, no offer yet). */
  #wanting = false;
  /** Offers that arrived outside `#wanting` (before a completion's ack): taken by the next cycle. */
  readonly #early: OfferPayload[] = [];
  readonly #socket: DialhubSocket;
  readonly #campaignId: string;
  readonly #rec: Recorder;
  readonly #done: (agent: Agent) => void;

  constructor(
    socket: DialhubSocket,
    campaignId: string,
    chainAllowed: boolean,
    rec: Recorder,
    done: (agent: Agent) => void,
  ) {
    this.#chainAllowed = chainAllowed;
    this.#socket = socket;
    this.#campaignId = campaignId;
    this.#rec = rec;
    this.#done = done;
    socket.on('call:offer', (offer, ack) => {
      ack({ accept: true });
      if (this.#wanting) this.#offered(offer, performance.now());
      else this.#early.push(offer);
    });
    socket.on('call:revoked', (revoked) => rec.error(`call:revoked ${revoked.reason}`));
  }

  begin(intendedAt: number): void {
    this.busy = true;
    this.#wanting = true;
    this.#intendedAt = intendedAt;
    this.#sentAt = performance.now();
    const early = this.#early.shift();
    if (early) {
      this.#offered(early, this.#sentAt);
      return;
    }
    if (this.#ready) return; // the offer follows on its own
    this.#socket.emit('agent:ready', { campaignId: this.#campaignId }, (res) => {
      if (res.ok) return;
      this.#rec.error(`agent:ready ${res.error.code}`);
      this.#wanting = false;
      setTimeout(() => this.#end(false), ERROR_PAUSE_MS);
    });
  }

  prepare(mode: LoadMode): void {
    this.#chain = this.#chainAllowed && mode.kind === 'closed';
  }

  /**
   * A chained closed loop that stops leaves this agent ready at the gateway, about to be offered
   * a lead (or already offered one): take that call without asking for another, so no lead stays
   * leased and the next phase starts from idle agents.
   */
  settle(): boolean {
    if (!this.#ready && this.#early.length === 0) return false;
    this.#chain = false;
    this.begin(performance.now());
    return true;
  }

  #offered(offer: OfferPayload, receivedAt: number): void {
    this.#wanting = false;
    this.#ready = false;
    this.#rec.offered(receivedAt, this.#intendedAt, this.#sentAt);
    const chain = this.#chain;
    this.#socket.emit(
      'call:complete',
      { leaseId: offer.leaseId, outcome: 'answered', durationSec: 30, ready: chain },
      (res) => {
        if (res.ok) {
          this.#rec.completed(performance.now(), this.#intendedAt);
          this.#end(res.state.state === 'ready');
        } else {
          this.#rec.error(`call:complete ${res.error.code}`);
          setTimeout(() => this.#end(false), ERROR_PAUSE_MS);
        }
      },
    );
  }

  #end(ready: boolean): void {
    this.#ready = ready;
    this.busy = false;
    this.#done(this);
  }
}
