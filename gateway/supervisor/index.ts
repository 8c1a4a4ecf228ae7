// The supervisor side's public surface: the /supervisor namespace (attached to a gateway with the
// access-token check of gateway/auth), its protocol, and the dashboard's static pages.
import { createUserSessions } from '../auth/user-sessions.js';
import type { Gateway } from '../gateway.js';
import { attachSupervisor } from './supervisor-hub.js';
import type { Supervisor } from './supervisor-hub.js';

export { attachSupervisor } from './supervisor-hub.js';
export type { AccessIdentity, AccessVerifier, Supervisor, SupervisorOptions } from './supervisor-hub.js';

/**
 * The gateway's `supervisor` dependency: supervisors, admins and owners log in with the identity
 * API (POST /api/v1/auth/login) and present the access token; a logged-out session is refused.
 */
export function supervisorWithLogins(
  serverSecret: string,
  options: { countersIntervalMs?: number } = {},
): (gateway: Gateway) => Supervisor {
  return (gateway) => {
    const sessions = createUserSessions({ db: gateway.deps.db, serverSecret });
    return attachSupervisor(gateway, { ...options, verify: (token) => sessions.authenticate(token) });
  };
}
