// Wire error codes: every failure a client can see, over Socket.IO acknowledgements and HTTP,
// with its HTTP status and default message. Engine error codes appear here unchanged.
import type { EngineErrorCode } from '../../engine/errors.js';

export const WIRE_ERRORS = {
  // request shape
  BAD_REQUEST: { status: 400, message: 'Request is malformed' },
  PAYLOAD_INVALID: { status: 400, message: 'Payload failed validation' },
  // identity and tenancy
  UNAUTHENTICATED: { status: 401, message: 'Missing or invalid credentials' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  DEVICE_UNKNOWN: { status: 403, message: 'Device is not registered to this agent' },
  DEVICE_LIMIT: { status: 403, message: "The tenant's plan allows no more devices" },
  NOT_FOUND: { status: 404, message: 'No such resource' },
  CONFLICT: { status: 409, message: 'A resource with this id already exists' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Request body is too large' },
  // agent flow
  NOT_READY: { status: 409, message: 'Agent is not in a state that allows this' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  UNAVAILABLE: { status: 503, message: 'Service is starting or shutting down' },
  INTERNAL: { status: 500, message: 'Internal error' },
  // engine
  CAMPAIGN_UNKNOWN: { status: 404, message: 'No such campaign in this tenant' },
  CAMPAIGN_INVALID: { status: 400, message: 'Campaign configuration is invalid' },
  LEAD_INVALID: { status: 400, message: 'Lead is malformed' },
  INPUT_INVALID: { status: 400, message: 'Request is malformed' },
  LEASE_UNKNOWN: { status: 404, message: 'No such lease' },
  LEASE_STALE: { status: 409, message: 'Lease is no longer current' },
  LEASE_EXPIRED: { status: 409, message: 'Lease has expired' },
  LEASE_NOT_OWNED: { status: 403, message: 'Lease belongs to another agent' },
  LEASE_NOT_ACCEPTED: { status: 409, message: 'Lease has not been accepted yet' },
  OUTCOME_UNKNOWN: { status: 400, message: 'Outcome code is not defined for this campaign' },
  CALLBACK_REQUIRED: { status: 400, message: 'This outcome needs a callback time and scope' },
  CALLBACK_INVALID: { status: 400, message: 'Callback is malformed or out of range' },
  AGENT_BUSY: { status: 409, message: 'Agent already holds a live lease' },
} as const satisfies Record<string, { status: number; message: string }> & Record<EngineErrorCode, unknown>;

export type WireErrorCode = keyof typeof WIRE_ERRORS;

export interface WireError {
  readonly code: WireErrorCode;
  readonly message: string;
  /** Validation issues (paths and messages), when the payload failed its schema. */
  readonly issues?: readonly { path: string; message: string }[];
}

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: WireError };
