// The supervisor side's public surface: the /supervisor namespace (attached to a gateway with the
// access-token check of gateway/auth, or a TV link), its protocol, and the dashboard's static pages.
import { createUserSessions } from '../auth/user-sessions.js';
import type { Gateway } from '../gateway.js';
import { attachSupervisor } from './supervisor-hub.js';
import type { AccessIdentity, Supervisor } from './supervisor-hub.js';
import { createTvLinks, isTvLinkToken } from './tv-links.js';

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
    const sessions = createUserSessions({
      db: gateway.deps.db,
      serverSecret,
      deviceTokens: gateway.deps.tokens,
    });
    const links = createTvLinks(gateway.deps.db.knex);
    return attachSupervisor(gateway, {
      ...options,
      verify: async (token): Promise<AccessIdentity> => {
        if (isTvLinkToken(token)) {
          const link = await links.resolve(token);
          // Watches as a supervisor would; the namespace refuses it every action.
          return {
            tenantId: link.tenantId,
            userId: `link:${link.linkId}`,
            role: 'supervisor',
            link: { id: link.linkId, campaignId: link.campaignId },
          };
        }
        return sessions.authenticate(token);
      },
    });
  };
}
