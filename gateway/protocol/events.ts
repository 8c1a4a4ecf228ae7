// Event maps of the wire protocol. Server, dashboard, bench and tests type their sockets with
// these, so a renamed event or field fails to compile everywhere at once.
import type { Ack } from './errors.js';
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

export interface CompletionAck {
  readonly attemptId: string;
  readonly leadId: string;
  /** Where the lead went: final, exhausted, dnc, retry:<due ms>, callback:<due ms>:<agent>. */
  readonly disposition: string;
  readonly duplicate: boolean;
}

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
