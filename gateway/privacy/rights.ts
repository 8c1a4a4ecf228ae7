// Data-subject rights across the whole deployment: the system of record (db/privacy) plus the
// queue and live state in Redis, the devices holding calls, and the adapter's stream.
//
// Erasure, in this order:
//   1. Postgres, one transaction: the number's hash goes on the erasure list (so imports refuse
//      it from the commit on), its leads, attempts and callbacks are deleted, its do-not-call row
//      too, and free text quoting it is overwritten. The open request is recorded with it.
//   2. Every campaign's queue (engine eraseNumbers): its leads leave the queue and their records
//      are dropped; a live lease is revoked (its device is told, the agent is routed again) and
//      dropped, so a late completion keeps nothing; the raw number leaves the suppression set.
//      The number's tenant-wide gap reservation (gateway/calls/tenant-gap.ts) is deleted.
//   3. Redis streams under the key prefix: entries that hold the number are deleted.
//   4. The request is marked completed.
// A failure after step 1 leaves the request open (listed as such); erasing again is harmless and
// finishes the job.
import { isEngineError } from '../../engine/errors.js';
import type { TenantId } from '../../engine/ids.js';
import { campaignRef } from '../../engine/ids.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { QueueStore } from '../../engine/queue-store.js';
import type {
  Rectification,
  RectifiedLead,
  RequestMeta,
  RightsRequest,
  SubjectExport,
} from '../../db/index.js';
import type { Gateway } from '../gateway.js';
import { GatewayError } from '../errors.js';
import { leadInputOf } from '../leads/lead-input.js';
import type { StreamSweeper } from './stream-sweep.js';

export interface ErasureResult {
  readonly request: RightsRequest;
  readonly leads: number;
  readonly attempts: number;
  readonly callbacks: number;
  readonly dncEntries: number;
  /** Leases revoked on devices (calls or offers in progress). */
  readonly leasesRevoked: number;
  readonly streamEntries: number;
}

export interface Rights {
  erase(tenantId: TenantId, phone: string, meta: RequestMeta): Promise<ErasureResult>;
  rectify(
    tenantId: TenantId,
    phone: string,
    changes: Rectification,
    meta: RequestMeta,
  ): Promise<{ request: RightsRequest; leads: RectifiedLead[] }>;
  access(tenantId: TenantId, phone: string, meta: RequestMeta): Promise<SubjectExport>;
}

export function createRights(gateway: Gateway, sweeper?: StreamSweeper): Rights {
  const { db, store, logger } = gateway.deps;

  /** Run `op` on every campaign of the tenant the queue knows (an unknown one holds nothing). */
  async function eachCampaign<T>(
    tenantId: TenantId,
    op: (ref: ReturnType<typeof campaignRef>, s: QueueStore) => Promise<T>,
  ): Promise<T[]> {
    const out: T[] = [];
    for (const campaignId of await db.campaigns.listIds(tenantId)) {
      try {
        out.push(await op(campaignRef(tenantId, campaignId), store));
      } catch (err) {
        if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
      }
    }
    return out;
  }

  return {
    async erase(tenantId, phone, meta) {
      const { request, erased } = await db.privacy.erase(tenantId, phone, meta);
      let revoked = 0;
      await eachCampaign(tenantId, async (ref, s) => {
        const gone = await s.eraseNumbers(ref, [phone]);
        const leases = gone.flatMap((g) => (g.revoked ? [g.revoked] : []));
        if (leases.length > 0) {
          revoked += leases.length;
          gateway.hub.revoked(tenantId, leases, 'removed');
          gateway.dispatcher.trigger(ref);
        }
      });
      // The number's tenant-wide gap reservation holds it too (gateway/calls/tenant-gap.ts).
      await gateway.tenantGap.erase(tenantId, [phone]);
      const streamEntries = sweeper ? await sweeper.sweep([phone.slice(1)]) : 0;
      const summary = {
        leads: erased.leads.length,
        attempts: erased.attempts,
        callbacks: erased.callbacks,
        dncEntries: erased.dncEntries,
        leasesRevoked: revoked,
        streamEntries,
      };
      const done = await db.privacy.requests.complete(tenantId, request.id, meta.now, summary);
      logger.info({ tenantId, requestId: request.id, ...summary }, 'privacy.erased');
      return { request: done, ...summary };
    },

    async rectify(tenantId, phone, changes, meta) {
      // A lead on a call keeps the data its agent was shown; correct it once the call is over
      // rather than pull the call from under the agent.
      const queued = await db.privacy.queuedLeadIds(tenantId, phone);
      if (queued.length > 0) {
        const held = new Set<string>();
        for (const ref of new Set(queued.map((q) => q.campaignId))) {
          // Every gateway alive answers (as for a rebuild), not only those the adapter counts.
          for (const call of await gateway.heldCalls(campaignRef(tenantId, ref))) {
            held.add(parseLeaseId(call.leaseId).leadId);
          }
        }
        if (queued.some((q) => held.has(q.leadId)))
          throw new GatewayError(
            'CONFLICT',
            'a lead with this number is on a call; correct it when the call is over',
          );
      }
      const result = await db.privacy.rectify(tenantId, phone, changes, meta);
      // The queue holds a copy of each queued lead: correct it in place (updateLead keeps its
      // place, due time and the number's calling-rules history), under the number it is queued on
      // (its current one, which may not be the rectified number). A copy under a live lease (an
      // offer not yet taken: calls were refused above) is taken out and queued again corrected.
      const changedQueued = result.leads.filter((l) => l.status === 'queued' && l.changed.length > 0);
      const now = gateway.deps.clock.now();
      for (const l of changedQueued) {
        const lead = await db.leads.get(tenantId, l.leadId);
        if (!lead || lead.status !== 'queued') continue;
        const ref = campaignRef(tenantId, l.campaignId);
        const input = leadInputOf(lead);
        try {
          const placed = await store.updateLead(ref, lead.phone, input, now);
          if (placed === 'leased') {
            for (const gone of await store.eraseNumbers(ref, [lead.phone])) {
              if (gone.revoked) gateway.hub.revoked(tenantId, [gone.revoked], 'removed');
            }
            await store.enqueue(ref, [leadInputOf(lead, true)], now);
          }
          gateway.dispatcher.trigger(ref);
        } catch (err) {
          if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
        }
      }
      return result;
    },

    access: (tenantId, phone, meta) => db.privacy.access(tenantId, phone, meta),
  };
}
