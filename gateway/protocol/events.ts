// Event maps of the wire protocol. Server, dashboard, bench and tests type their sockets with
// these, so a renamed event or field fails to compile everywhere at once.
import { z } from 'zod';
import type { Ack } from './errors.js';
import {
  acceptSchema,
  agentHandshakeSchema,
  agentStateSchema,
  callStatusSchema,
  completeSchema,
  completionAckSchema,
  offerAckSchema,
  offerPayloadSchema,
  pauseSchema,
  readySchema,
  rejectSchema,
  resumedPayloadSchema,
  revokedPayloadSchema,
  sessionReplacedSchema,
} from './schemas.js';
import type {
  AcceptPayload,
  AgentState,
  CallStatusPayload,
  CompletePayload,
  OfferAck,
  OfferPayload,
  PausePayload,
  ReadyPayload,
  RejectPayload,
  ResumedPayload,
  RevokedPayload,
  SessionReplacedPayload,
} from './schemas.js';

export const AGENT_NAMESPACE = '/agent';

/**
 * The largest frame a client may send, in bytes. The largest legal payload (a completion with 4,000
 * characters of notes in multi-byte script, 20 tags and a follow-up) is under 20 KB; a bigger frame
 * closes the connection with WebSocket close code 1009 (message too big).
 */
export const MAX_FRAME_BYTES = 32 * 1024;

export type CompletionAck = z.infer<typeof completionAckSchema>;

/**
 * The /agent protocol as data, the one definition the AsyncAPI document and the README are
 * generated from: each event with its payload schema and what its acknowledgement carries.
 */
export const AGENT_PROTOCOL = {
  handshake: agentHandshakeSchema,
  client: {
    'agent:ready': { payload: readySchema, ack: z.object({}) },
    'agent:pause': { payload: pauseSchema, ack: z.object({}) },
    'call:accept': {
      payload: acceptSchema,
      ack: z.object({ expiresAt: z.number().int().describe('The call lease now lives until then') }),
    },
    'call:reject': { payload: rejectSchema, ack: z.object({}) },
    'call:status': { payload: callStatusSchema, ack: z.object({}) },
    'call:complete': { payload: completeSchema, ack: completionAckSchema },
  },
  server: {
    'call:offer': { payload: offerPayloadSchema, ack: offerAckSchema },
    'call:resumed': { payload: resumedPayloadSchema },
    'call:revoked': { payload: revokedPayloadSchema },
    'agent:state': {
      payload: agentStateSchema.describe(
        "Changes of the agent's state the device did not ask for (login, resume, revocation, a closed campaign, a supervisor's pause); the acknowledgements of its own events carry its new state.",
      ),
    },
    'session:replaced': { payload: sessionReplacedSchema },
  },
} as const;

export interface AgentClientEvents {
  'agent:ready': (payload: ReadyPayload, ack: (res: Ack<{ state: AgentState }>) => void) => void;
  'agent:pause': (payload: PausePayload, ack: (res: Ack<{ state: AgentState }>) => void) => void;
  'call:accept': (
    payload: AcceptPayload,
    ack: (res: Ack<{ expiresAt: number; state: AgentState }>) => void,
  ) => void;
  'call:reject': (payload: RejectPayload, ack: (res: Ack<{ state: AgentState }>) => void) => void;
  'call:status': (payload: CallStatusPayload, ack: (res: Ack<{ state: AgentState }>) => void) => void;
  'call:complete': (
    payload: CompletePayload,
    ack: (res: Ack<CompletionAck & { state: AgentState }>) => void,
  ) => void;
}

export interface AgentServerEvents {
  'call:offer': (payload: OfferPayload, ack: (res: OfferAck) => void) => void;
  'call:resumed': (payload: ResumedPayload) => void;
  'call:revoked': (payload: RevokedPayload) => void;
  'agent:state': (payload: AgentState) => void;
  'session:replaced': (payload: SessionReplacedPayload) => void;
}
