// Loading standard leads into a campaign in import-sized batches, one batch at a time as a CSV
// importer would, timed.
import type { CampaignRef } from '../../../engine/ids.js';
import type { QueueStore } from '../../../engine/queue-store.js';
import { elapsedMs } from '../../lib/stats.js';
import { standardLeads } from './leads.js';

export interface FillResult {
  readonly leads: number;
  readonly ms: number;
  readonly perS: number;
}

export async function fillCampaign(
  store: QueueStore,
  ref: CampaignRef,
  count: number,
  batchSize: number,
  signal: AbortSignal,
  firstIndex = 0,
): Promise<FillResult> {
  const start = process.hrtime.bigint();
  let queued = 0;
  for (let i = 0; i < count; i += batchSize) {
    signal.throwIfAborted();
    const batch = standardLeads(firstIndex + i, Math.min(batchSize, count - i));
    const r = await store.enqueue(ref, batch, Date.now());
    if (r.duplicates.length > 0) throw new Error(`unexpected duplicates while filling ${ref.campaignId}`);
    queued += r.enqueued;
  }
  const ms = elapsedMs(start);
  return { leads: queued, ms, perS: (queued / ms) * 1000 };
}
