// How an admin's change to a queued lead reaches the live queue: inside the Postgres transaction
// that writes it (db FollowQueue), the engine's one atomic `updateLead` rewrites the queued copy
// in place. A refusal throws, which rolls the transaction back, so Postgres and the queue never
// disagree: a lead on a call (its lease live) is LEAD_BUSY and nothing changed anywhere.
import { isEngineError } from '../../engine/errors.js';
import { campaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { FollowQueue, StoredLead } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';

/** The lead as the queue takes it; `dueAt` only when the wait changed (else the queue keeps its own). */
function queuedCopy(after: StoredLead, before: StoredLead, now: number): LeadInput {
  const waitChanged = after.dueAt !== before.dueAt || after.pinnedAgentId !== before.pinnedAgentId;
  return {
    id: after.id,
    phone: after.phone,
    name: after.name,
    timeZone: after.timeZone,
    priority: after.priority,
    attempts: after.attempts,
    ...(waitChanged ? { dueAt: after.dueAt ?? now } : {}),
    ...(after.pinnedAgentId === null ? {} : { pinnedAgentId: after.pinnedAgentId }),
    fields: after.fields,
  };
}

export function followInQueue(gateway: Gateway): FollowQueue {
  const { store, clock } = gateway.deps;
  return async (after, before) => {
    const ref = campaignRef(after.tenantId, after.campaignId);
    const now = clock.now();
    let result;
    try {
      result = await store.updateLead(ref, before.phone, queuedCopy(after, before, now), now);
    } catch (err) {
      // A paused or archived campaign has no live queue: its rebuild reads the row as written.
      if (isEngineError(err, 'CAMPAIGN_UNKNOWN')) return;
      throw err;
    }
    switch (result) {
      case 'updated':
        gateway.dispatcher.trigger(ref);
        return;
      case 'absent':
        // The queue does not hold it (lost, or not rebuilt yet): a rebuild queues the row as written.
        return;
      case 'leased':
        throw new GatewayError(
          'LEAD_BUSY',
          'the lead is on a call (offered or in progress): retry once the call is completed',
        );
      case 'duplicate':
        throw new GatewayError('CONFLICT', 'the number is queued in this campaign under another lead');
      case 'suppressed':
        throw new GatewayError('INPUT_INVALID', 'the number is on the do-not-call or erasure list');
      default: {
        const never: never = result;
        throw new Error(`unexpected updateLead result ${String(never)}`);
      }
    }
  };
}
