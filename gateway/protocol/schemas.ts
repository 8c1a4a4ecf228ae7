// Payload schemas of the wire protocol: the single definition of every socket payload. Types are
// inferred from these; the gateway validates every incoming payload with them at the edge.
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
const leaseId = z.string().min(3).max(160);
const text = (max: number) =>
  z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .regex(/^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/, 'must not contain control characters');

/** An instant: epoch milliseconds or an ISO 8601 date-time with offset. */
export const instantSchema = z
  .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })])
  .transform((v) => (typeof v === 'number' ? v : Date.parse(v)));

// ---- /agent: client to server ----

export const readySchema = z.object({ campaignId: id });
export const pauseSchema = z.object({ reason: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/) });
export const acceptSchema = z.object({ leaseId });
export const rejectSchema = z.object({
  leaseId,
  reason: z.enum(['busy_device', 'declined', 'no_signal', 'other']).default('declined'),
});
export const callStatusSchema = z.object({
  leaseId,
  status: z.enum(['dialing', 'ringing', 'connected', 'ended']),
});
export const completeSchema = z.object({
  leaseId,
  outcome: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  durationSec: z.number().int().min(0).max(86_400),
  notes: text(4000).optional(),
  tags: z
    .array(z.string().regex(/^[\w-]{1,40}$/))
    .max(20)
    .optional(),
  callback: z.object({ at: instantSchema, scope: z.enum(['agent', 'anyone']) }).optional(),
  followUp: z
    .object({
      channel: z.enum(['sms', 'email', 'whatsapp']),
      template: id.optional(),
      body: text(1000).optional(),
    })
    .optional(),
  /**
   * Go straight back to ready on the same campaign once the outcome is saved (no wrap-up): a
   * power-dialing device saves the separate `agent:ready` round trip.
   */
  ready: z.boolean().default(false),
});

export type ReadyPayload = z.input<typeof readySchema>;
export type PausePayload = z.input<typeof pauseSchema>;
export type AcceptPayload = z.input<typeof acceptSchema>;
export type RejectPayload = z.input<typeof rejectSchema>;
export type CallStatusPayload = z.input<typeof callStatusSchema>;
export type CompletePayload = z.input<typeof completeSchema>;

// ---- /agent: server to client ----

export const AGENT_STATES = [
  'offline',
  'ready',
  'offered',
  'dialing',
  'on_call',
  'wrap_up',
  'paused',
] as const;
export type AgentStateName = (typeof AGENT_STATES)[number];

export type AgentState =
  | {
      readonly state: Exclude<AgentStateName, 'paused'>;
      readonly since: number;
      readonly campaignId?: string;
    }
  | {
      readonly state: 'paused';
      readonly reason: string;
      readonly since: number;
      readonly campaignId?: string;
    };

export interface OfferLead {
  readonly id: string;
  readonly phone: string;
  readonly name: string;
  readonly timeZone: string;
  readonly attempts: number;
  readonly fields: Readonly<Record<string, string>>;
}

export interface OfferPayload {
  readonly leaseId: string;
  readonly lead: OfferLead;
  readonly campaign: { readonly id: string };
  readonly expiresAt: number;
}

/** The device's answer to an offer: receipt, and `accept: true` to take the call at once. */
export const offerAckSchema = z.object({ accept: z.boolean().default(false) }).loose();
export type OfferAck = z.input<typeof offerAckSchema>;

export const REVOKE_REASONS = [
  'offer_timeout',
  'expired',
  'removed',
  'grace_expired',
  'shutdown',
  'paused',
] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

export interface RevokedPayload {
  readonly leaseId: string;
  readonly reason: RevokeReason;
}

/** How far a resumed call had got: the agent's state is restored to it. */
export const CALL_PHASES = ['offered', 'dialing', 'on_call', 'wrap_up'] as const;
export type CallPhase = (typeof CALL_PHASES)[number];

/** After a reconnect inside the grace period: the device still holds this lease. */
export interface ResumedPayload {
  readonly leaseId: string;
  readonly campaign: { readonly id: string };
  /** The call's phase; the agent is in the state of the same name. */
  readonly state: CallPhase;
  readonly expiresAt: number;
}

export const SESSION_END_REASONS = ['newer_session', 'logged_out'] as const;

export interface SessionReplacedPayload {
  /** newer_session: another connection of the same agent took over; logged_out: an admin or supervisor ended it. */
  readonly reason: (typeof SESSION_END_REASONS)[number];
}

/** Handshake `auth` of the /agent namespace. */
export const agentHandshakeSchema = z.object({
  token: z.string().min(1).max(4096),
  deviceId: id,
  /** The lease the device was working when its connection dropped: resumed if still live. */
  leaseId: leaseId.optional(),
});
export type AgentHandshake = z.input<typeof agentHandshakeSchema>;
