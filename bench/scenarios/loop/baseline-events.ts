// Event maps of the two baselines' little protocols, typed like dialhub's (gateway/protocol), so
// both ends of each baseline are checked by the compiler too.
import type { OfferLead } from '../../../gateway/protocol/index.js';

/** Bare Socket.IO: the client sends a number, the server acknowledges it at once. */
export interface PingClientEvents {
  ping: (n: number, ack: (n: number) => void) => void;
}

/** The BullMQ dialer's job: the same lead fields dialhub offers. */
export type DialerJob = Pick<OfferLead, 'id' | 'phone' | 'name' | 'timeZone'>;

/** The device answers an offer with the call's outcome in the acknowledgement. */
export interface DialerOutcome {
  readonly outcome: string;
  readonly durationSec: number;
}

export interface DialerClientEvents {
  /** The agent is idle and wants a call. */
  ready: () => void;
}

export interface DialerServerEvents {
  offer: (job: DialerJob, ack: (outcome: DialerOutcome) => void) => void;
}

/** Handshake `auth` of the BullMQ dialer: it trusts the agent id (no tokens in the baseline). */
export interface DialerHandshake {
  readonly agentId: string;
}
