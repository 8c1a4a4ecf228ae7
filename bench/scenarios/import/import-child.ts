// The `import` scenario's dialhub import, in a process of its own: what the gateway's process holds
// for an import and nothing of the bench's (the generated file's writer, the DNC list, the
// baselines). It loads the gateway's modules (the HTTP app and the gateway, not started), opens
// the database and the queue store as the gateway does, runs importCsv with the intake the HTTP
// route uses, then sends its figures to the parent and exits: its peak resident set (VmHWM, the
// kernel's own high-water mark of this process) covers everything it did since it started.
import { createReadStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../../engine/clock.js';
import type { CampaignRef } from '../../../engine/ids.js';
import { createLeaseIds } from '../../../engine/lease.js';
import { createRedisQueueStore } from '../../../engine/redis/redis-queue-store.js';
import { createDatabase } from '../../../db/index.js';
import type { ImportCounts, ImportReject, NewLead } from '../../../db/index.js';
import { importCsv } from '../../../gateway/leads/csv-import.js';
import { openLeadIntake } from '../../../gateway/leads/intake.js';
import type { CheckedLeads, LeadIntake, StoredLeads } from '../../../gateway/leads/intake.js';
import { silentLogger } from '../../../gateway/logger.js';
// Loaded, not started: the gateway process carries these modules while it imports.
import { createGateway } from '../../../gateway/gateway.js';
import { createHttpApp } from '../../../gateway/http/app.js';

export interface ImportChildArgs {
  readonly file: string;
  readonly postgresUrl: string;
  readonly schema: string;
  readonly redisUrl: string;
  readonly keyPrefix: string;
  readonly tenantId: string;
  readonly campaignId: string;
  readonly jobId: string;
  /** Rows per batch; the import's own default when not given. */
  readonly batchSize?: number;
  /** The gateway's IMPORT_HEAP_GROWTH_PERCENT (gateway/heap.ts); its default when not given. */
  readonly heapGrowthPercent?: number;
}

export interface ImportChildResult {
  readonly seconds: number;
  readonly sha256: string;
  readonly counts: ImportCounts;
  readonly busyMs: { check: number; store: number; queue: number; progress: number };
  /** VmRSS just before the import (MiB). */
  readonly rssBeforeMb: number;
  /** VmHWM at the end (MiB): the process's peak resident set over its whole life. */
  readonly peakRssMb: number;
}

/** A field of /proc/self/status in MiB (the kernel writes kB). */
function statusMb(field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m) throw new Error(`no ${field} in /proc/self/status`);
  return Number(m[1]) / 1024;
}

async function main(args: ImportChildArgs): Promise<ImportChildResult> {
  if (typeof createGateway !== 'function' || typeof createHttpApp !== 'function')
    throw new Error('gateway modules did not load');
  const db = createDatabase({ url: args.postgresUrl, searchPath: args.schema, pool: { min: 2, max: 10 } });
  const store = await createRedisQueueStore({
    url: args.redisUrl,
    keyPrefix: args.keyPrefix,
    leaseIds: createLeaseIds('bench-import-lease-secret-bench-import-lease'),
  });
  try {
    const ref = { tenantId: args.tenantId, campaignId: args.campaignId } as CampaignRef;
    const opened = await openLeadIntake({ db, store, clock: systemClock, logger: silentLogger }, ref);
    // Busy time of each step, summed over the batches (the steps overlap).
    const busy = { check: 0, store: 0, queue: 0, progress: 0 };
    const timed =
      <A extends unknown[], R>(step: keyof typeof busy, f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        const t0 = performance.now();
        try {
          return await f(...a);
        } finally {
          busy[step] += performance.now() - t0;
        }
      };
    const intake: LeadIntake = {
      ref: opened.ref,
      check: timed('check', (leads: readonly NewLead[]) => opened.check(leads)),
      store: timed('store', (checked: CheckedLeads) => opened.store(checked)),
      queue: timed('queue', (stored: StoredLeads) => opened.queue(stored)),
      discard: (stored) => opened.discard(stored),
      unconsented: (phones) => opened.unconsented(phones),
    };
    const rssBeforeMb = statusMb('VmRSS');
    const t = performance.now();
    const result = await importCsv(
      createReadStream(args.file),
      {
        defaultCountry: 'US',
        ...(args.heapGrowthPercent !== undefined ? { heapGrowthPercent: args.heapGrowthPercent } : {}),
        ...(args.batchSize !== undefined ? { batchSize: args.batchSize } : {}),
      },
      {
        intake,
        progress: timed('progress', (delta: ImportCounts, rejects: readonly ImportReject[]) =>
          db.imports.progress(args.tenantId, args.jobId, delta, rejects),
        ),
      },
    );
    const seconds = (performance.now() - t) / 1000;
    return {
      seconds,
      sha256: result.sha256,
      counts: result.counts,
      busyMs: busy,
      rssBeforeMb,
      peakRssMb: statusMb('VmHWM'),
    };
  } finally {
    await store.close();
    await db.close();
  }
}

const send = (msg: unknown) =>
  new Promise<void>((resolve) => (process.send ? process.send(msg, () => resolve()) : resolve()));

main(JSON.parse(process.argv[2] ?? '{}') as ImportChildArgs).then(
  async (result) => {
    await send({ ok: true, result });
    process.disconnect?.();
  },
  async (err: unknown) => {
    await send({ ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
