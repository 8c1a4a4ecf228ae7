// Wire error codes: every failure a client can see, over Socket.IO acknowledgements and HTTP, with
// its HTTP status, default message, what it means and whether to retry. Engine error codes
// appear here unchanged. The README's catalogue and the AsyncAPI document are generated from this
// table (gateway/protocol/docs.ts), so the documents cannot drift from the code.
import type { EngineErrorCode } from '../../engine/errors.js';

export interface WireErrorSpec {
  readonly status: number;
  /** Default message, sent with the code. */
  readonly message: string;
  /**
   * `true`: the same request may succeed later unchanged (retry with backoff; a completion keeps
   * its lease id, so a retry is saved once). `false`: it never will as it is.
   */
  readonly retryable: boolean;
  /** When it happens and what a client should do: the catalogue's text. */
  readonly meaning: string;
}

export const WIRE_ERRORS = {
  // request shape
  BAD_REQUEST: {
    status: 400,
    message: 'Request is malformed',
    retryable: false,
    meaning: 'The HTTP request could not be read (bad JSON, wrong content type). Fix the request.',
  },
  PAYLOAD_INVALID: {
    status: 400,
    message: 'Payload failed validation',
    retryable: false,
    meaning:
      'The event payload or request body does not match its schema; `issues` names each field at fault. Counts against the rate limit.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    message: 'Request body is too large',
    retryable: false,
    meaning: 'The body or frame is larger than the limit named in the message.',
  },
  EVENT_UNKNOWN: {
    status: 400,
    message: 'No such client event',
    retryable: false,
    meaning:
      "The socket event name is not one of the protocol's client events. Counts against the rate limit.",
  },
  // identity and tenancy
  UNAUTHENTICATED: {
    status: 401,
    message: 'Missing or invalid credentials',
    retryable: false,
    meaning: 'The token is missing, malformed, expired or revoked. Obtain a new one.',
  },
  FORBIDDEN: {
    status: 403,
    message: 'Not allowed',
    retryable: false,
    meaning: 'The credential is valid but its role or tenant may not do this.',
  },
  DEVICE_UNKNOWN: {
    status: 403,
    message: 'Device is not registered to this agent',
    retryable: false,
    meaning: 'The device id is unknown, revoked, or registered to another agent.',
  },
  DEVICE_LIMIT: {
    status: 403,
    message: "The tenant's plan allows no more devices",
    retryable: false,
    meaning: 'Every device slot of the plan is taken; revoke a device first.',
  },
  NOT_FOUND: {
    status: 404,
    message: 'No such resource',
    retryable: false,
    meaning: 'Nothing with that id exists in this tenant.',
  },
  CONFLICT: {
    status: 409,
    message: 'A resource with this id already exists',
    retryable: false,
    meaning: 'The id is taken in this tenant.',
  },
  // agent flow
  NOT_READY: {
    status: 409,
    message: 'Agent is not in a state that allows this',
    retryable: false,
    meaning:
      'The command does not fit the agent\'s state (the message says why, e.g. "accept or reject the offered call first"). The agent state diagram shows what is allowed where.',
  },
  LEASE_NOT_HELD: {
    status: 409,
    message: 'This session does not hold that lease',
    retryable: false,
    meaning:
      'accept, reject or status named a lease this session does not hold. A device that dropped resumes its call by reconnecting with `auth.leaseId`; a completion is accepted for any lease of the agent.',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'Too many requests',
    retryable: true,
    meaning: 'The device sent more events per second than AGENT_EVENT_RATE allows. Slow down, then retry.',
  },
  UNAVAILABLE: {
    status: 503,
    message: 'Service is starting, shutting down or cannot reach its stores',
    retryable: true,
    meaning:
      'Redis or Postgres did not answer, or the gateway is draining. Nothing was saved; retry the same request (reconnect first when draining).',
  },
  INTERNAL: {
    status: 500,
    message: 'Internal error',
    retryable: true,
    meaning: 'An unexpected failure, logged on the server. Retrying the same request is safe.',
  },
  // engine
  CAMPAIGN_UNKNOWN: {
    status: 404,
    message: 'No such campaign in this tenant',
    retryable: false,
    meaning: 'The campaign does not exist in this tenant, or is paused or archived.',
  },
  CAMPAIGN_STALE: {
    status: 503,
    message: "The campaign's queue may have lost writes and is being rebuilt from the system of record",
    retryable: true,
    meaning:
      'Redis restarted or failed over; the queue is rebuilt from Postgres before anything more is offered. Retry in a moment.',
  },
  CAMPAIGN_INVALID: {
    status: 400,
    message: 'Campaign configuration is invalid',
    retryable: false,
    meaning: 'The calling window or disposition policy is malformed.',
  },
  CAMPAIGN_NOT_ASSIGNED: {
    status: 403,
    message: 'This agent is not assigned to the campaign',
    retryable: false,
    meaning:
      'agent:ready named a campaign whose assigned agents do not include this one (a campaign with no assigned agents is open to all). Admins assign agents with PUT /api/v1/tenants/:tenantId/campaigns/:campaignId/agents.',
  },
  LEAD_INVALID: {
    status: 400,
    message: 'Lead is malformed',
    retryable: false,
    meaning: 'A lead failed validation; the message names it.',
  },
  INPUT_INVALID: {
    status: 400,
    message: 'Request is malformed',
    retryable: false,
    meaning: 'A value is out of range or malformed; the message says which.',
  },
  IMPORT_INVALID: {
    status: 400,
    message: 'The file cannot be imported',
    retryable: false,
    meaning:
      'A CSV import has no header row, no column that looks like a phone number (give `mapping`), or a mapping that names columns the header lacks; the message says which. Problems of single rows never fail an import: they are in its rejects.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'Unsupported content type',
    retryable: false,
    meaning:
      'The request body has a content type this route does not take; the message names the ones it does.',
  },
  LEASE_UNKNOWN: {
    status: 404,
    message: 'No such lease',
    retryable: false,
    meaning: 'The lease id is malformed, was never issued to this agent, or its lead is not queued any more.',
  },
  LEASE_STALE: {
    status: 409,
    message: 'Lease is no longer current',
    retryable: false,
    meaning:
      'The lease was rejected, completed, fenced out, or expired and its lead was leased again: the newer lease stands. A completion refused with this code was not saved.',
  },
  LEASE_EXPIRED: {
    status: 409,
    message: 'Lease has expired',
    retryable: false,
    meaning:
      'The offer or call lease ran out before it was accepted or renewed. The outcome of a call that happened may still be completed.',
  },
  LEASE_NOT_OWNED: {
    status: 403,
    message: 'Lease belongs to another agent',
    retryable: false,
    meaning: 'The lease was granted to another agent.',
  },
  LEASE_NOT_ACCEPTED: {
    status: 409,
    message: 'Lease has not been accepted yet',
    retryable: false,
    meaning: 'The call has to be accepted before this.',
  },
  LEASE_CONFLICT: {
    status: 409,
    message: 'This lease id is on record for another lead',
    retryable: false,
    meaning:
      'An integrity check failed: the stored outcome under this lease id belongs to another lead. Nothing was saved or answered from it.',
  },
  OUTSIDE_CALLING_WINDOW: {
    status: 409,
    message: "The lead's calling window has closed",
    retryable: false,
    meaning:
      "The offer was accepted after its lead's local calling hours ended; it is withdrawn and the lead waits for its window.",
  },
  OUTCOME_UNKNOWN: {
    status: 400,
    message: 'Outcome code is not defined for this campaign',
    retryable: false,
    meaning: "Use one of the campaign's outcome codes; nothing was saved.",
  },
  CALLBACK_REQUIRED: {
    status: 400,
    message: 'This outcome needs a callback time and scope',
    retryable: false,
    meaning: 'The outcome schedules a callback: send `callback: { at, scope }`.',
  },
  CALLBACK_INVALID: {
    status: 400,
    message: 'Callback is malformed or out of range',
    retryable: false,
    meaning: 'A callback was sent for an outcome without one, or its time is more than a year ahead.',
  },
  AGENT_BUSY: {
    status: 409,
    message: 'Agent already holds a live lease',
    retryable: false,
    meaning: 'An agent holding a live call cannot be made ready; complete or release it first.',
  },
  // admin API (gateway/http)
  METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'Method not allowed on this path',
    retryable: false,
    meaning:
      'The path exists but not with this HTTP method; the `Allow` header (and the message) lists the methods it takes.',
  },
  CAMPAIGN_ARCHIVED: {
    status: 409,
    message: 'The campaign is archived',
    retryable: false,
    meaning:
      'An archived campaign is read-only: it offers nothing, takes no leads and cannot be edited. Create a new campaign instead.',
  },
  DNC_UNKNOWN: {
    status: 404,
    message: 'The number is not on the do-not-call list',
    retryable: false,
    meaning: 'DELETE /dnc/:phone named a number (after normalization) that is not listed in this tenant.',
  },
  CONSENT_REQUIRED: {
    status: 409,
    message: 'No live consent on this channel',
    retryable: false,
    meaning:
      'A follow-up by SMS or WhatsApp from a marketing campaign needs live consent of the number on that channel in the consent ledger; nothing was sent.',
  },
  NUMBER_SUPPRESSED: {
    status: 409,
    message: 'The number is on the do-not-call list',
    retryable: false,
    meaning:
      'An opt-out on any channel puts the number on the do-not-call list for every channel: no follow-up is sent to it.',
  },
  LEAD_BUSY: {
    status: 409,
    message: 'The lead is on a call',
    retryable: true,
    meaning:
      'The lead is on a call (offered, in progress or being completed): it cannot be edited (PATCH /leads/:id) or given, moved or relieved of a callback, and a number cannot leave the do-not-call list while a lead the listing removed is still on a call. Nothing was changed; retry once the call is completed.',
  },
  LEAD_NOT_QUEUED: {
    status: 409,
    message: 'The lead is not queued',
    retryable: false,
    meaning:
      'Only a queued lead can be re-prioritized, removed or given a callback; this one is final or removed.',
  },
  CALLBACK_UNKNOWN: {
    status: 404,
    message: 'No such pending callback',
    retryable: false,
    meaning: 'The callback id does not exist in this tenant, or it is already done or cancelled.',
  },
  NUMBER_GAP: {
    status: 409,
    message: 'The number was called too recently by another campaign',
    retryable: false,
    meaning:
      "Another campaign of the tenant dialled this number less than its calling rules' minimum gap ago: the offer is withdrawn at accept (call:revoked with reason gap) and its lead waits until the gap ends.",
  },
  RULE_PACK_UNKNOWN: {
    status: 404,
    message: 'No such rule pack',
    retryable: false,
    meaning:
      "A rule pack id (in the path, or in a campaign's `rulePackIds`) is not in this tenant's library.",
  },
  RULE_PACK_IN_USE: {
    status: 409,
    message: 'The rule pack is in use',
    retryable: false,
    meaning:
      'A rule pack that campaigns reference cannot be deleted; the message names them. Take it out of their `rulePackIds` (or archive them) first.',
  },
} as const satisfies Record<string, WireErrorSpec> & Record<EngineErrorCode, unknown>;

export type WireErrorCode = keyof typeof WIRE_ERRORS;

export const WIRE_ERROR_CODES = Object.keys(WIRE_ERRORS) as WireErrorCode[];

export const isRetryable = (code: WireErrorCode): boolean => WIRE_ERRORS[code].retryable;

export interface WireError {
  readonly code: WireErrorCode;
  readonly message: string;
  /** Whether the same request may succeed later unchanged (the catalogue's `retryable`). */
  readonly retryable: boolean;
  /** Validation issues (paths and messages), when the payload failed its schema. */
  readonly issues?: readonly { path: string; message: string }[];
}

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: WireError };
