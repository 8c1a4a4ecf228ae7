// What a device floor process (floor.ts) is told, and what it reports back over IPC: every
// operation a simulated device invokes and how it ended, stamped with the time it saw it.

/** How a device answers offers. */
export type AckMode =
  /** { accept: true } in the offer's acknowledgement (one round trip). */
  | 'ack-accept'
  /** A bare acknowledgement, then call:accept. */
  | 'accept-event'
  /** Never acknowledges the offer; takes it with call:accept (legal: the README offers both). */
  | 'no-ack'
  /** call:accept at once, the offer's acknowledgement only after ackDelayMs (a slow link). */
  | 'slow-ack';

export interface FloorAgent {
  readonly agentId: string;
  readonly deviceId: string;
  readonly token: string;
  /** Index of the gateway it connects to first. */
  readonly home: number;
  readonly ackMode: AckMode;
}

export interface OutcomeWeight {
  readonly outcome: string;
  readonly weight: number;
}

export interface FloorOptions {
  readonly urls: readonly string[];
  readonly campaignId: string;
  readonly agents: readonly FloorAgent[];
  /** On a lost connection, try the other gateways too (else only its home). */
  readonly failover: boolean;
  readonly callMs: readonly [number, number];
  readonly ackDelayMs: number;
  readonly outcomes: readonly OutcomeWeight[];
  /** How long a device waits for a completion's acknowledgement before sending it again. */
  readonly completeTimeoutMs: number;
  /** Share of completions sent with a very short timeout (the ack arrives late; the device retries). */
  readonly impatientShare: number;
  readonly seed: number;
}

interface Stamp {
  readonly t: number;
  readonly agentId: string;
}

export type FloorEvent = Stamp &
  (
    | { kind: 'connect'; gateway: number; leaseId?: string }
    | { kind: 'connect-failed'; gateway: number; message: string }
    | { kind: 'disconnect'; reason: string }
    | { kind: 'offer'; leaseId: string; leadId: string; phone: string; expiresAt: number }
    | { kind: 'accepted'; leaseId: string }
    /** The gateway answered the call's `connected` status: it holds the call as taken. */
    | { kind: 'on-call'; leaseId: string }
    | { kind: 'accept-refused'; leaseId: string; code: string }
    | { kind: 'resumed'; leaseId: string; state: string }
    | { kind: 'resume-lost'; leaseId: string; accepted: boolean }
    | { kind: 'revoked'; leaseId: string; reason: string }
    | { kind: 'complete-sent'; leaseId: string; leadId: string; outcome: string; try: number }
    | {
        kind: 'completed';
        leaseId: string;
        leadId: string;
        outcome: string;
        attemptId: string;
        duplicate: boolean;
        disposition: string;
      }
    | { kind: 'complete-refused'; leaseId: string; leadId: string; outcome: string; code: string }
    | { kind: 'complete-retry'; leaseId: string; code: string }
    | { kind: 'ready-refused'; code: string }
    | { kind: 'offer-while-holding'; leaseId: string; held: string }
    | { kind: 'drained' }
  );

export type FloorCommand = { cmd: 'drain' } | { cmd: 'exit' };
