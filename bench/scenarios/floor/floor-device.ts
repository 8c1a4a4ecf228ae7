// One simulated agent on a realistic floor, speaking the real protocol: ready -> offer (taken at
// once) -> the number rings -> an outcome from the mix (answered calls last a talk time) ->
// `call:complete` -> wrap-up (think time) -> ready again. Timers stand in for people; the offer
// latency is measured from the moment the agent said ready.
import { performance } from 'node:perf_hooks';
import type { Socket } from 'socket.io-client';
import type { AgentClientEvents, AgentServerEvents, OfferPayload } from '../../../gateway/protocol/index.js';
import type { FloorTally } from './floor-tally.js';
import { pickOutcome, sample } from './profile.js';
import type { FloorProfile } from './profile.js';

export type FloorSocket = Socket<AgentServerEvents, AgentClientEvents>;

export class FloorDevice {
  readonly #socket: FloorSocket;
  readonly #campaignId: string;
  readonly #tally: FloorTally;
  #profile: FloorProfile | undefined;
  #readyAt = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Calls in progress (offered, not yet acknowledged as completed). */
  #inCall = false;
  #stopping = false;
  /** Completes the call in progress (what its timer will do): run early when the floor stops. */
  #finish: (() => void) | undefined;

  constructor(socket: FloorSocket, campaignId: string, tally: FloorTally) {
    this.#socket = socket;
    this.#campaignId = campaignId;
    this.#tally = tally;
    socket.on('call:offer', (offer, ack) => {
      ack({ accept: true });
      this.#offered(offer);
    });
  }

  get busy(): boolean {
    return this.#inCall;
  }

  start(profile: FloorProfile): void {
    this.#profile = profile;
    this.#stopping = false;
    // Agents log in over a short spread, as people do, not all in one instant.
    this.#timer = setTimeout(() => this.#ready(), Math.random() * profile.think.meanMs);
  }

  /** No new calls; a call in progress completes at once, so no lead stays leased. */
  stop(): void {
    this.#stopping = true;
    clearTimeout(this.#timer);
    const finish = this.#finish;
    this.#finish = undefined;
    finish?.();
  }

  #ready(): void {
    if (this.#stopping) return;
    this.#readyAt = performance.now();
    this.#socket.emit('agent:ready', { campaignId: this.#campaignId }, (res) => {
      if (!res.ok) {
        this.#tally.error(`agent:ready ${res.error.code}`);
        this.#later(() => this.#ready(), 1000);
      }
    });
  }

  #later(fn: () => void, ms: number): void {
    this.#timer = setTimeout(fn, ms);
  }

  #offered(offer: OfferPayload): void {
    const profile = this.#profile;
    this.#inCall = true;
    if (!profile || this.#stopping) {
      this.#complete(offer, 'no_answer', 0, false);
      return;
    }
    this.#tally.offered(performance.now() - this.#readyAt, offer.lead.attempts > 0);
    const ringMs = sample(profile.ring);
    const outcome = pickOutcome(profile.mix);
    const talkMs = outcome === 'answered' ? sample(profile.talk) : 0;
    this.#finish = () => this.#complete(offer, outcome, talkMs, true);
    this.#later(() => {
      const finish = this.#finish;
      this.#finish = undefined;
      finish?.();
    }, ringMs + talkMs);
  }

  #complete(offer: OfferPayload, outcome: string, talkMs: number, counted: boolean): void {
    const profile = this.#profile;
    const callback =
      outcome === 'callback' && profile
        ? { callback: { at: Date.now() + Math.round(profile.callbackAfterMs), scope: 'anyone' as const } }
        : {};
    this.#socket.emit(
      'call:complete',
      { leaseId: offer.leaseId, outcome, durationSec: Math.round(talkMs / 1000), ready: false, ...callback },
      (res) => {
        this.#inCall = false;
        if (!res.ok) this.#tally.error(`call:complete ${res.error.code}`);
        else if (counted) this.#tally.completed(outcome, talkMs);
        if (profile && !this.#stopping) this.#later(() => this.#ready(), sample(profile.think));
      },
    );
  }
}
