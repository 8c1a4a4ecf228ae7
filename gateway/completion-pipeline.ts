// Call completions, in the order the contract demands: the engine checks the completion (fencing
// by lease id, outcome code, disposition), the outcome is committed to Postgres (idempotent on the
// lease id), only then does the engine apply it (the lease leaves Redis) and the device get its
// acknowledgement. Completions that arrive together travel together: one engine check and one
// apply per tick, one Postgres transaction per batch (the outcome writer's group commit).
import type { Clock } from '../engine/clock.js';
import { encodeDisposition } from '../engine/disposition.js';
import type { AgentId, DeviceId, TenantId } from '../engine/ids.js';
import { parseLeaseId } from '../engine/lease.js';
import type { Completion, CompletionInput, QueueStore } from '../engine/queue-store.js';
import type { OutcomeRecord, StoredOutcome } from '../db/index.js';
import type { OutcomeInput } from '../db/index.js';
import { GatewayError } from './errors.js';
import type { WireErrorCode } from './protocol/errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { CompletionAck } from './protocol/events.js';
import type { completeSchema } from './protocol/schemas.js';
import type { z } from 'zod';

export interface CompletionPipelineOptions {
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly outcomes: {
    write(input: OutcomeInput): Promise<OutcomeRecord>;
    findByLeaseIds(tenantId: string, leaseIds: readonly string[]): Promise<Map<string, StoredOutcome>>;
  };
  /** A committed outcome put a number on the tenant's do-not-call list: take it out of every queue. */
  readonly onDnc: (tenantId: TenantId, phone: string) => Promise<void>;
  /** The number of a lead (to suppress it again when a do-not-call completion is retried). */
  readonly phoneOf: (tenantId: TenantId, leadId: string) => Promise<string | undefined>;
}

export interface Completer {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
}

export interface CompletionPipeline {
  submit(by: Completer, payload: z.output<typeof completeSchema>): Promise<CompletionAck>;
  /** Resolves when every submitted completion has been answered. */
  drain(): Promise<void>;
}

interface Job {
  readonly by: Completer;
  readonly payload: z.output<typeof completeSchema>;
  readonly item: CompletionInput;
  readonly resolve: (ack: CompletionAck) => void;
  readonly reject: (err: unknown) => void;
}

const ackOf = (r: StoredOutcome, duplicate: boolean): CompletionAck => ({
  attemptId: r.attemptId,
  leadId: r.leadId,
  disposition: encodeDisposition(r.disposition),
  duplicate,
});

export function createCompletionPipeline(options: CompletionPipelineOptions): CompletionPipeline {
  const { store, clock, logger, metrics, outcomes } = options;
  let queue: Job[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();

  function settle(job: Job, result: CompletionAck | GatewayError): void {
    if (result instanceof GatewayError) {
      metrics.completions.inc({ result: result.code });
      job.reject(result);
    } else {
      metrics.completions.inc({ result: result.duplicate ? 'duplicate' : 'saved' });
      job.resolve(result);
    }
  }

  async function runTenant(tenantId: TenantId, jobs: Job[]): Promise<void> {
    const now = clock.now();
    const items = jobs.map((j) => ({ ...j.item, completedAt: Math.min(j.item.completedAt ?? now, now) }));
    const checks = await store.checkCompletions(tenantId, items, now);

    const duplicates: { index: number; leaseId: string }[] = [];
    // Refused by the queue, but possibly saved before (a retry after the queue lost or moved the
    // lease): Postgres decides; answer from it when it holds this lease's outcome.
    const refused: { index: number; leaseId: string; code: WireErrorCode }[] = [];
    const writes: Promise<void>[] = [];
    const committed: { index: number; check: Completion; record: OutcomeRecord }[] = [];
    checks.forEach((check, i) => {
      const job = jobs[i]!;
      if (!check.ok) {
        if (
          check.code === 'LEASE_STALE' ||
          check.code === 'LEASE_UNKNOWN' ||
          check.code === 'CAMPAIGN_UNKNOWN'
        ) {
          refused.push({ index: i, leaseId: job.item.leaseId, code: check.code });
        } else {
          settle(job, new GatewayError(check.code));
        }
        return;
      }
      if (check.duplicate) {
        duplicates.push({ index: i, leaseId: check.leaseId });
        return;
      }
      const p = job.payload;
      writes.push(
        outcomes
          .write({
            tenantId,
            campaignId: parseLeaseId(check.leaseId).campaignId,
            leadId: check.leadId,
            leaseId: check.leaseId,
            agentId: job.by.agentId,
            deviceId: job.by.deviceId,
            outcome: check.outcome,
            disposition: check.disposition,
            attempts: check.attempts,
            late: check.late,
            durationSec: p.durationSec,
            ...(p.notes !== undefined ? { notes: p.notes } : {}),
            ...(p.tags !== undefined ? { tags: p.tags } : {}),
            ...(p.callback !== undefined ? { callback: p.callback } : {}),
            ...(p.followUp !== undefined ? { followUp: p.followUp } : {}),
            completedAt: items[i]!.completedAt,
            dncPhone: check.dncPhone,
          })
          .then(
            (record) => {
              committed.push({ index: i, check, record });
            },
            (err: unknown) => {
              logger.error({ err, leaseId: check.leaseId }, 'outcome.write_failed');
              settle(job, new GatewayError('INTERNAL', 'the outcome could not be saved; retry'));
            },
          ),
      );
    });
    await Promise.all(writes);
    if (committed.length > 0) metrics.outcomeBatch.observe(committed.length);

    // Committed: now the engine moves the leads. Same completion time, so the same disposition;
    // a completion Postgres already held (a retry after a failed apply) is applied as stored.
    if (committed.length > 0) {
      const applyItems = committed.map(({ index, record }): CompletionInput =>
        record.duplicate
          ? {
              leaseId: record.leaseId,
              agentId: jobs[index]!.by.agentId,
              outcome: record.outcome,
              completedAt: Math.min(record.completedAt, now),
              ...(record.callback ? { callback: record.callback } : {}),
            }
          : items[index]!,
      );
      try {
        const applied = await store.complete(tenantId, applyItems, now);
        applied.forEach((res, j) => {
          // Outcome saved, but the lease moved on meanwhile (expired and leased again): the call
          // is on record; the newer lease stands.
          if (!res.ok)
            logger.warn({ leaseId: committed[j]!.check.leaseId, code: res.code }, 'outcome.apply_skipped');
        });
      } catch (err) {
        // Saved in Postgres, so the device's answer is "saved"; the queue catches up when the
        // lease expires and the reaper finds the outcome on record.
        logger.error({ err, tenantId }, 'outcome.apply_failed');
      }
      // "Never offered once the addition is acknowledged": remove the number before answering,
      // on a retry too (suppression is idempotent, and the first attempt may have failed here).
      await Promise.all(
        committed.filter((c) => c.check.dncPhone).map((c) => options.onDnc(tenantId, c.check.dncPhone!)),
      );
      for (const c of committed) settle(jobs[c.index]!, ackOf(c.record, c.record.duplicate));
    }

    if (refused.length > 0) {
      const stored = await outcomes.findByLeaseIds(
        tenantId,
        refused.map((r) => r.leaseId),
      );
      for (const { index, leaseId, code } of refused) {
        const record = stored.get(leaseId);
        const job = jobs[index]!;
        settle(
          job,
          record && record.agentId === job.by.agentId ? ackOf(record, true) : new GatewayError(code),
        );
      }
    }

    // Completed before: answer from the stored outcome, the same answer as the first time.
    if (duplicates.length > 0) {
      const stored = await outcomes.findByLeaseIds(
        tenantId,
        duplicates.map((d) => d.leaseId),
      );
      for (const { index, leaseId } of duplicates) {
        const record = stored.get(leaseId);
        // The first attempt may have failed after the queue applied it but before the number was
        // suppressed everywhere: suppress again (idempotent) before answering.
        if (record?.disposition.kind === 'dnc') {
          const phone = await options.phoneOf(tenantId, record.leadId);
          if (phone) await options.onDnc(tenantId, phone);
        }
        settle(
          jobs[index]!,
          record
            ? ackOf(record, true)
            : new GatewayError('LEASE_STALE', 'this lease was completed, but its outcome is not on record'),
        );
      }
    }
  }

  async function flush(): Promise<void> {
    scheduled = false;
    const batch = queue;
    queue = [];
    const byTenant = new Map<TenantId, Job[]>();
    for (const job of batch) {
      const list = byTenant.get(job.by.tenantId);
      if (list) list.push(job);
      else byTenant.set(job.by.tenantId, [job]);
    }
    await Promise.all(
      [...byTenant].map(([tenantId, jobs]) =>
        runTenant(tenantId, jobs).catch((err: unknown) => {
          logger.error({ err, tenantId }, 'completion.batch_failed');
          for (const job of jobs)
            job.reject(new GatewayError('INTERNAL', 'the outcome could not be saved; retry'));
        }),
      ),
    );
  }

  return {
    submit(by, payload) {
      return new Promise<CompletionAck>((resolve, reject) => {
        const item: CompletionInput = {
          leaseId: payload.leaseId,
          agentId: by.agentId,
          outcome: payload.outcome,
          ...(payload.callback ? { callback: payload.callback } : {}),
          completedAt: clock.now(),
        };
        queue.push({ by, payload, item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(() => {
            const p = flush().finally(() => inFlight.delete(p));
            inFlight.add(p);
          });
        }
      });
    },
    async drain() {
      while (queue.length > 0 || inFlight.size > 0 || scheduled) {
        await Promise.all(inFlight);
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}
