// The callback hand-over job (db/privacy/callback-handover.ts decides which): for each stranded
// agent-only callback, skip it if its lead is under a lease (the agent is taking it after all),
// else give it to anyone in Postgres, then move the queue entry: the pinned entry is dropped
// (eraseNumbers, which leaves the number unsuppressed) and the lead queued again for anyone at
// its callback time. The QueueStore port has no "unpin" operation, hence the two steps; a lease
// taken between the check and the move is revoked (reported to its device) and the lead stays
// for anyone.
import { isEngineError } from '../../engine/errors.js';
import { campaignRef } from '../../engine/ids.js';
import type { TenantId } from '../../engine/ids.js';
import type { Gateway } from '../gateway.js';
import { queuePositions } from './explain.js';
import type { PeriodicJob } from './jobs.js';

export const HANDOVER_EVERY_MS = 15_000;

/** Hand over every stranded callback; returns how many moved. */
export async function runCallbackHandover(gateway: Gateway): Promise<number> {
  const { db, store, clock, logger } = gateway.deps;
  let moved = 0;
  for (const c of await db.privacy.callbacks.stranded(clock.now(), 200)) {
    const tenantId = c.tenantId as TenantId;
    const ref = campaignRef(tenantId, c.campaignId);
    let where: string | undefined;
    try {
      where = queuePositions(await store.snapshot(ref)).get(c.leadId)?.where;
    } catch (err) {
      if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
    }
    if (where === 'leased' || where === 'revoked') continue;
    if (!(await db.privacy.callbacks.handOver(c))) continue;
    moved++;
    logger.info({ tenantId, callbackId: c.callbackId, agentGone: c.agentGone }, 'callback.handed_over');
    if (where === undefined) continue; // the queue does not hold it: a rebuild queues it for anyone
    const lead = await db.leads.get(tenantId, c.leadId);
    if (!lead || lead.status !== 'queued') continue;
    const gone = await store.eraseNumbers(ref, [lead.phone]);
    const revoked = gone.flatMap((g) => (g.revoked ? [g.revoked] : []));
    if (revoked.length > 0) gateway.hub.revoked(tenantId, revoked, 'removed');
    await store.enqueue(
      ref,
      gone.length === 0
        ? []
        : [
            {
              id: lead.id,
              phone: lead.phone,
              name: lead.name,
              timeZone: lead.timeZone,
              priority: lead.priority,
              attempts: lead.attempts,
              dueAt: c.dueAt,
              fields: lead.fields,
            },
          ],
      clock.now(),
    );
    gateway.dispatcher.trigger(ref);
  }
  return moved;
}

export const callbackHandoverJob = (gateway: Gateway): PeriodicJob => ({
  name: 'callback.handover',
  everyMs: HANDOVER_EVERY_MS,
  run: async () => void (await runCallbackHandover(gateway)),
});
