// Redis memory a campaign's queue takes per lead. Two readings, because the server is shared:
//  - the used_memory delta around the load (what the brief's goal is stated in; it includes the
//    server's per-key overhead, but also anything other clients did meanwhile), and
//  - the sum of MEMORY USAGE over the campaign's own keys (immune to other clients, leaves out
//    the keyspace dictionary entries, so it reads slightly low).
import { setTimeout as sleep } from 'node:timers/promises';
import type { CampaignRef } from '../../../engine/ids.js';
import { campaignKeys } from '../../../engine/keys.js';
import type { QueueStore } from '../../../engine/queue-store.js';
import { memoryUsageOfPrefix, usedMemory } from '../../lib/redis-admin.js';
import type { AdminClient } from '../../lib/redis-admin.js';
import { fillCampaign } from './fill.js';
import type { FillResult } from './fill.js';

export interface Footprint {
  readonly leads: number;
  readonly usedMemoryDelta: number;
  readonly bytesPerLead: number;
  readonly keyBytes: number;
  readonly keyBytesPerLead: number;
  readonly keys: number;
  readonly fill: FillResult;
}

/** Settle time before reading used_memory, so replies and client buffers of the load are freed. */
const SETTLE_MS = 500;

export async function campaignKeyBytes(
  admin: AdminClient,
  keyPrefix: string,
  ref: CampaignRef,
): Promise<{ bytes: number; keys: number }> {
  return memoryUsageOfPrefix(admin, campaignKeys(keyPrefix, ref).base);
}

/** Fill an empty, defined campaign with `leads` standard leads and measure what they cost. */
export async function measureFootprint(
  store: QueueStore,
  admin: AdminClient,
  keyPrefix: string,
  ref: CampaignRef,
  leads: number,
  batchSize: number,
  signal: AbortSignal,
): Promise<Footprint> {
  await sleep(SETTLE_MS);
  const before = await usedMemory(admin);
  const fill = await fillCampaign(store, ref, leads, batchSize, signal);
  await sleep(SETTLE_MS);
  const after = await usedMemory(admin);
  const own = await campaignKeyBytes(admin, keyPrefix, ref);
  return {
    leads,
    usedMemoryDelta: after - before,
    bytesPerLead: (after - before) / leads,
    keyBytes: own.bytes,
    keyBytesPerLead: own.bytes / leads,
    keys: own.keys,
    fill,
  };
}
