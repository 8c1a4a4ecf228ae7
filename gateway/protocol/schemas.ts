// Payload schemas of the wire protocol: the single definition of every socket payload, in both
// directions. Types are inferred from these; the gateway validates every incoming payload with
// them at the edge; the AsyncAPI document (asyncapi.ts) is generated from them, descriptions and
// limits included, so an integrator reads exactly what the gateway enforces.
import { z } from 'zod';
import { MAX_LEASE_ID_LENGTH } from '../../engine/ids.js';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
const leaseId = z
  .string()
  .min(3)
  .max(MAX_LEASE_ID_LENGTH)
  .describe('The lease id of the offer (an opaque string; the fencing token of the call)');
const text = (max: number) =>
  z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .regex(/^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$/, 'must not contain control characters');
const epochMs = z.number().int().describe('Epoch milliseconds');

/** An instant: epoch milliseconds or an ISO 8601 date-time with offset. */
export const instantSchema = z
  .union([z.number().int().min(0).max(8.64e15), z.iso.datetime({ offset: true })])
  .transform((v) => (typeof v === 'number' ? v : Date.parse(v)));

// ---- /agent: client to server ----

export const readySchema = z
  .object({ campaignId: id.describe('The campaign to work') })
  .describe('Join routing for a campaign. Leaves the routing of any other campaign.');
export const pauseSchema = z
  .object({
    reason: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/)
      .describe('Lower-case reason code, e.g. lunch, training'),
  })
  .describe('Leave routing (only with no call held).');
export const acceptSchema = z.object({ leaseId }).describe('Take the offered call.');
export const REJECT_REASONS = ['busy_device', 'declined', 'no_signal', 'other'] as const;
export const rejectSchema = z
  .object({ leaseId, reason: z.enum(REJECT_REASONS).default('declined') })
  .describe(
    'Decline the offered call, or give up a call before it connects: the lead goes back to the head of its priority, no attempt counted. The agent is then paused with the reason.',
  );
export const CALL_STATUSES = ['dialing', 'ringing', 'connected', 'ended'] as const;
export const callStatusSchema = z
  .object({ leaseId, status: z.enum(CALL_STATUSES) })
  .describe(
    'How the call goes: connected puts the agent on_call, ended in wrap_up; a status only moves forward. Sent for an offer not yet accepted, it accepts it first.',
  );
export const completeSchema = z
  .object({
    leaseId,
    outcome: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,31}$/)
      .describe(
        "One of the campaign's outcome codes (answered, no_answer, busy, voicemail, failed, invalid_number, dnc, callback, or its own)",
      ),
    durationSec: z.number().int().min(0).max(86_400).describe('Talk time in seconds'),
    notes: text(4000).optional(),
    tags: z
      .array(z.string().regex(/^[\w-]{1,40}$/))
      .max(20)
      .optional(),
    callback: z
      .object({
        at: instantSchema.describe('When: epoch ms or ISO 8601 with offset, within a year'),
        scope: z.enum(['agent', 'anyone']),
      })
      .optional()
      .describe('Required by callback outcomes, refused on others'),
    followUp: z
      .object({
        channel: z.enum(['sms', 'email', 'whatsapp']),
        template: id.optional(),
        body: text(1000).optional(),
      })
      .optional(),
    ready: z
      .boolean()
      .default(false)
      .describe(
        'Go straight back to ready on the same campaign once the outcome is saved (no wrap-up): a power-dialling device saves the agent:ready round trip',
      ),
  })
  .describe(
    'The outcome of a call. Acknowledged only once it is committed in Postgres; retrying the same completion (same lease id) is harmless and answers the same. Accepted for any lease of the agent, held or not, whatever the session is doing (the call happened).',
  );

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

export const agentStateSchema = z
  .object({
    state: z.enum(AGENT_STATES),
    since: epochMs.describe('When this state began'),
    campaignId: id.optional().describe('The campaign the agent works'),
    reason: z
      .string()
      .optional()
      .describe('Only for paused: why (login, lunch, offer_timeout, campaign_closed ...)'),
  })
  .describe("The agent's state, as routing and the wallboard see it.");
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

export const offerLeadSchema = z.object({
  id: z.string(),
  phone: z.string().describe('E.164'),
  name: z.string(),
  timeZone: z.string().describe('IANA zone, or several joined by commas'),
  attempts: z.number().int().describe('Attempts before this one'),
  fields: z.record(z.string(), z.string()),
});
export type OfferLead = z.infer<typeof offerLeadSchema>;

export const offerPayloadSchema = z
  .object({
    leaseId,
    lead: offerLeadSchema,
    campaign: z.object({ id }),
    expiresAt: epochMs.describe('The offer lapses then unless accepted'),
  })
  .describe(
    'A call for the agent. Acknowledge it within OFFER_ACK_TIMEOUT_MS (a bare acknowledgement, or { accept: true } to take the call in the same round trip), or it is revoked with offer_timeout; accept it (here or with call:accept) before expiresAt.',
  );
export type OfferPayload = z.infer<typeof offerPayloadSchema>;

/** The device's answer to an offer: receipt, and `accept: true` to take the call at once. */
export const offerAckSchema = z
  .object({ accept: z.boolean().default(false) })
  .loose()
  .describe('The acknowledgement of call:offer: receipt; { accept: true } also takes the call.');
export type OfferAck = z.input<typeof offerAckSchema>;

export const REVOKE_REASONS = [
  'offer_timeout',
  'expired',
  'removed',
  'grace_expired',
  'shutdown',
  'paused',
  'gap',
] as const;
export type RevokeReason = (typeof REVOKE_REASONS)[number];

export const revokedPayloadSchema = z
  .object({ leaseId, reason: z.enum(REVOKE_REASONS) })
  .describe(
    'The call is taken away: offer_timeout (the offer was not acknowledged), expired (the lease ran out), removed (the number was put on the do-not-call list: a call in progress may still be completed), grace_expired (another session resumed it), shutdown (the gateway is stopping; reconnect), paused (a supervisor paused the agent before it accepted), gap (at accept: another campaign of the tenant dialled the number less than the minimum gap ago; the lead waits until the gap ends).',
  );
export type RevokedPayload = z.infer<typeof revokedPayloadSchema>;

/** How far a resumed call had got: the agent's state is restored to it. */
export const CALL_PHASES = ['offered', 'dialing', 'on_call', 'wrap_up'] as const;
export type CallPhase = (typeof CALL_PHASES)[number];

export const resumedPayloadSchema = z
  .object({
    leaseId,
    campaign: z.object({ id }),
    state: z
      .enum(CALL_PHASES)
      .describe('How far the call had got; the agent is back in the state of the same name'),
    expiresAt: epochMs,
  })
  .describe('After a reconnect with auth.leaseId inside the grace period: the device still holds this call.');
export type ResumedPayload = z.infer<typeof resumedPayloadSchema>;

export const SESSION_END_REASONS = ['newer_session', 'logged_out'] as const;
export const sessionReplacedSchema = z
  .object({ reason: z.enum(SESSION_END_REASONS) })
  .describe(
    'The session ends: newer_session (another connection of the same agent took over), logged_out (an admin or supervisor ended it). The connection closes after it.',
  );
export type SessionReplacedPayload = z.infer<typeof sessionReplacedSchema>;

export const completionAckSchema = z.object({
  attemptId: z.string().describe('The call attempt in Postgres'),
  leadId: z.string(),
  disposition: z
    .string()
    .describe(
      'Where the lead went: final, exhausted, dnc, retry:<due ms>, callback:<due ms>:<agent or empty>',
    ),
  duplicate: z.boolean().describe('The same completion was saved before; this is its answer again'),
  followUp: z
    .object({
      status: z
        .enum(['pending', 'sent', 'failed', 'handed_over', 'refused'])
        .describe(
          "The follow-up's status (an SMS is pending in the outbox until the provider takes it; a WhatsApp message is handed over to the device), or refused: nothing was sent",
        ),
      channel: z.enum(['sms', 'email', 'whatsapp']),
      followUpId: z.string().optional().describe('The follow-up on record (GET /followups)'),
      link: z.string().optional().describe('WhatsApp: the click-to-chat link to open on the device'),
      code: z
        .string()
        .optional()
        .describe('Refused: the error code (NUMBER_SUPPRESSED, CONSENT_REQUIRED, ...)'),
      message: z.string().optional().describe('Refused: why'),
      retryable: z
        .boolean()
        .optional()
        .describe(
          'Refused: whether retrying the same completion may send it (the outcome is saved either way)',
        ),
    })
    .optional()
    .describe(
      "The completion's followUp, sent once its outcome is saved (a retry answers the same follow-up)",
    ),
});
export type CompletionAckPayload = z.infer<typeof completionAckSchema>;

/** Handshake `auth` of the /agent namespace. */
export const agentHandshakeSchema = z
  .object({
    token: z.string().min(1).max(4096).describe('The device token'),
    deviceId: id.describe('The registered device this token was issued for'),
    /** The lease the device was working when its connection dropped: resumed if still live. */
    leaseId: leaseId
      .optional()
      .describe('The call the device held when its connection dropped: resumed if still live'),
  })
  .describe('Socket.IO handshake `auth` of /agent.');
export type AgentHandshake = z.input<typeof agentHandshakeSchema>;
