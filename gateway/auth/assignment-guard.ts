// Two checks on /agent sockets that belong to identity, added beside the hub's own handling:
//   - agent:ready for a campaign the agent is not assigned to is refused CAMPAIGN_NOT_ASSIGNED
//     (acknowledged like any refusal; the agent's state does not change);
//   - a socket is disconnected when its device token expires (a device refreshes its token over
//     HTTP and reconnects with auth.leaseId to keep a call).
// Assignments are cached for a few seconds per campaign (agent:ready is frequent; a change made
// through this gateway applies at once, one made through another within CACHE_MS).
import type { Namespace } from 'socket.io';
import type { Database } from '../../db/index.js';
import type { Logger } from '../logger.js';
import { WIRE_ERRORS } from '../protocol/errors.js';

const CACHE_MS = 5_000;

export interface AssignmentGuard {
  /** Forget the cached assignments of a campaign (they were just changed). */
  invalidate(tenantId: string, campaignId: string): void;
}

export function guardAgentSockets(nsp: Namespace, db: Database, logger: Logger): AssignmentGuard {
  const cache = new Map<string, { at: number; agents: Promise<Set<string>> }>();
  const key = (tenantId: string, campaignId: string) => `${tenantId}\u0000${campaignId}`;

  async function allows(tenantId: string, campaignId: string, agentId: string): Promise<boolean> {
    const k = key(tenantId, campaignId);
    let hit = cache.get(k);
    if (!hit || Date.now() - hit.at > CACHE_MS) {
      hit = { at: Date.now(), agents: db.assignments.list(tenantId, campaignId).then((a) => new Set(a)) };
      cache.set(k, hit);
      hit.agents.catch(() => cache.delete(k));
    }
    const agents = await hit.agents;
    return agents.size === 0 || agents.has(agentId);
  }

  nsp.on('connection', (socket) => {
    const data = socket.data as { tenantId?: string; agentId?: string; expiresAt?: number };
    if (typeof data.expiresAt === 'number') {
      const timer = setTimeout(() => socket.disconnect(true), Math.max(0, data.expiresAt - Date.now()));
      timer.unref();
      socket.once('disconnect', () => clearTimeout(timer));
    }
    socket.use((packet: unknown[], next) => {
      const [event, payload, ...rest] = packet;
      if (event !== 'agent:ready' || typeof data.tenantId !== 'string' || typeof data.agentId !== 'string') {
        next();
        return;
      }
      const campaignId = (payload as { campaignId?: unknown } | undefined)?.campaignId;
      if (typeof campaignId !== 'string') {
        next(); // malformed: the hub answers PAYLOAD_INVALID
        return;
      }
      const ack = [payload, ...rest].findLast((a: unknown) => typeof a === 'function') as
        ((r: unknown) => void) | undefined;
      allows(data.tenantId, campaignId, data.agentId).then(
        (ok) => {
          if (ok) {
            next();
            return;
          }
          const spec = WIRE_ERRORS.CAMPAIGN_NOT_ASSIGNED;
          ack?.({
            ok: false,
            error: { code: 'CAMPAIGN_NOT_ASSIGNED', message: spec.message, retryable: spec.retryable },
          });
        },
        (err: unknown) => {
          logger.error({ err }, 'assignments.check_failed');
          const spec = WIRE_ERRORS.UNAVAILABLE;
          ack?.({
            ok: false,
            error: { code: 'UNAVAILABLE', message: spec.message, retryable: spec.retryable },
          });
        },
      );
    });
  });

  return {
    invalidate(tenantId, campaignId) {
      cache.delete(key(tenantId, campaignId));
    },
  };
}
