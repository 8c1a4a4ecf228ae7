// Call completions, in the order the contract demands, with one decision each:
//  1. claim: the queue decides the completion (fencing by lease id, outcome code, disposition)
//     and holds the lease: its lead is out of routing, and the reaper leaves it alone, so nothing
//     can lease the lead while the outcome is being committed;
//  2. commit: the decided outcome goes to Postgres (idempotent on the lease id; refused if the
//     reaper fenced the lease out meanwhile, or if the id is on record for another lead);
//  3. apply: the queue writes what Postgres holds (it re-checks the fence, never decides again);
//  4. the device is acknowledged.
// A completion for a lease the queue does not know (Redis lost it) is checked against the lease
// id's MAC and Postgres, adopted by the rebuilt queue, and goes the same way: the outcome of a call
// that really happened is kept. Completions that arrive together travel together: one claim and
// one apply per tenant per tick, one Postgres transaction per batch (the writer's group commit).
import type { Clock } from '../../engine/clock.js';
import { decideDisposition } from '../../engine/disposition.js';
import { isEngineError } from '../../engine/errors.js';
import type { AgentId, CampaignRef, DeviceId, TenantId } from '../../engine/ids.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { LeaseIds } from '../../engine/lease.js';
import type {
  CommittedCompletion,
  Completion,
  CompletionInput,
  ItemResult,
  QueueStore,
} from '../../engine/queue-store.js';
import type { Database, LeaseOnRecord, OutcomeInput, OutcomeRecord, StoredOutcome } from '../../db/index.js';
import { isVoided } from '../../db/index.js';
import { GatewayError, toWireError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { CompletionAck } from '../protocol/events.js';
import type { completeSchema } from '../protocol/schemas.js';
import { encodeDisposition } from '../../engine/disposition.js';
import { nextNumbers } from './next-number.js';
import type { z } from 'zod';
import type { CompletionFollowUps } from '../followups/completion.js';

export type CompleteCommand = z.output<typeof completeSchema>;

export interface Completer {
  readonly tenantId: TenantId;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
}

export interface CompletionsOptions {
  readonly store: QueueStore;
  readonly leaseIds: LeaseIds;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly db: Pick<Database, 'outcomes' | 'leads' | 'campaigns' | 'privacy'>;
  /** A committed outcome put a number on the tenant's do-not-call list: take it out of every queue. */
  readonly onDnc: (tenantId: TenantId, phone: string) => Promise<void>;
  /** The queue does not know the campaign (Redis lost it): define and rebuild it. */
  readonly recover: (ref: CampaignRef) => Promise<void>;
  /**
   * How long a claimed lease is held for its commit before the reaper may fence it out (the call
   * lease TTL): far longer than a commit takes (the writer's pool wait and statement timeout are
   * shorter), so a commit in flight is not fenced out; a device that retries claims it again and
   * holds it longer; the lease of a process that died mid-commit is back in the queue within the
   * TTL, like any lease of a dead process.
   */
  readonly holdMs: number;
  /** A lead held back for its move to its next number is dialable again (next-number.ts): offer it. */
  readonly onRequeued?: (ref: CampaignRef) => void;
  /**
   * Send the follow-up a completion asks for (`followUp`), once its outcome is saved; its result
   * goes in the acknowledgement. Called for every answer from the record, a retry's too: it must
   * be idempotent per lease id (gateway/followups/completion.ts).
   */
  readonly followUp?: CompletionFollowUps;
}

export interface Completions {
  submit(by: Completer, payload: CompleteCommand): Promise<CompletionAck>;
  /** Resolves when every submitted completion has been answered. */
  drain(): Promise<void>;
}

interface Job {
  readonly by: Completer;
  readonly payload: CompleteCommand;
  readonly item: CompletionInput & { completedAt: number };
  readonly resolve: (ack: CompletionAck) => void;
  readonly reject: (err: unknown) => void;
  /** Answered already: every job is answered exactly once. */
  answered: boolean;
}

/** A decided completion on its way to Postgres. */
interface Decided {
  readonly job: Job;
  readonly decision: Completion;
  /** Claimed in the queue (apply after the commit); false when the queue does not hold the lead. */
  readonly claimed: boolean;
}

const ackOf = (r: StoredOutcome, duplicate: boolean): CompletionAck => ({
  attemptId: r.attemptId,
  leadId: r.leadId,
  disposition: encodeDisposition(r.disposition),
  duplicate,
});

const committedOf = (r: StoredOutcome, agentId: AgentId): CommittedCompletion => ({
  leaseId: r.leaseId,
  agentId,
  outcome: r.outcome,
  attempts: r.attempts,
  disposition: r.disposition,
  leadId: r.leadId,
  late: r.late,
});

export function createCompletions(options: CompletionsOptions): Completions {
  const { store, clock, logger, metrics, db, leaseIds } = options;
  let queue: Job[] = [];
  let scheduled = false;
  const inFlight = new Set<Promise<void>>();
  const numbers = nextNumbers({
    store,
    clock,
    logger,
    db,
    holdMs: options.holdMs,
    onRequeued: options.onRequeued,
  });

  function settle(job: Job, result: CompletionAck | GatewayError): void {
    if (job.answered) return;
    job.answered = true;
    if (result instanceof GatewayError) {
      metrics.completions.inc({ result: result.code });
      job.reject(result);
    } else {
      metrics.completions.inc({ result: result.duplicate ? 'duplicate' : 'saved' });
      job.resolve(result);
    }
  }

  const fail = (job: Job, err: unknown): void => {
    const w = toWireError(err);
    if (w.code === 'INTERNAL') logger.error({ err, leaseId: job.item.leaseId }, 'completion.failed');
    settle(job, new GatewayError(w.code, w.message));
  };

  /** Answer a saved completion, with the result of its follow-up when it asks for one. */
  async function settleSaved(job: Job, ack: CompletionAck): Promise<void> {
    if (job.answered) return;
    const request = job.payload.followUp;
    if (request === undefined || options.followUp === undefined) return settle(job, ack);
    const { tenantId, agentId, deviceId } = job.by;
    const followUp = await options.followUp(
      { tenantId, agentId, deviceId, leadId: ack.leadId, leaseId: job.item.leaseId },
      request,
    );
    settle(job, { ...ack, followUp });
  }

  /**
   * Run a queue step over completions; a campaign the queue lost, or one marked stale (Redis may
   * have lost writes, or a rebuild is reading Postgres: no completion is claimed or adopted
   * meanwhile), is recovered once (or its rebuild under way awaited) and its items run again.
   */
  async function afterRecovery<I extends { readonly leaseId: string }, R>(
    tenantId: TenantId,
    items: readonly I[],
    now: number,
    step: (items: readonly I[], now: number) => Promise<readonly ItemResult<R>[]>,
  ): Promise<ItemResult<R>[]> {
    const results = [...(await step(items, now))];
    const again = results.flatMap((r, i) =>
      !r.ok && (r.code === 'CAMPAIGN_UNKNOWN' || r.code === 'CAMPAIGN_STALE') ? [i] : [],
    );
    if (again.length === 0) return results;
    const lost = new Map<string, CampaignRef>();
    for (const i of again) {
      const { campaignId } = parseLeaseId(items[i]!.leaseId);
      lost.set(campaignId, { tenantId, campaignId });
    }
    await Promise.all([...lost.values()].map((ref) => options.recover(ref)));
    const retried = await step(
      again.map((i) => items[i]!),
      clock.now(),
    );
    again.forEach((i, k) => {
      results[i] = retried[k]!;
    });
    return results;
  }

  /** Claim in the queue (recovering a lost or stale campaign once). */
  function claim(tenantId: TenantId, jobs: Job[], now: number): Promise<ItemResult<Completion>[]> {
    return afterRecovery(
      tenantId,
      jobs.map((j) => j.item),
      now,
      (items, at) => store.claimCompletions(tenantId, items, at, options.holdMs),
    );
  }

  /**
   * A lease the queue does not know: its id must be this deployment's, granted to this agent. The
   * system of record decides what it was: a stored outcome (answer it), a lead completed since
   * (stale), or a lead still queued (adopt it in the rebuilt queue) or removed (commit only).
   */
  async function orphans(tenantId: TenantId, jobs: Job[], now: number): Promise<Decided[]> {
    const decided: Decided[] = [];
    const adopt: { job: Job; leadId: string; phone: string }[] = [];
    for (const job of jobs) {
      const parsed = leaseIds.verify(job.item.leaseId, tenantId, job.by.agentId);
      if (!parsed) {
        settle(job, new GatewayError('LEASE_UNKNOWN'));
        continue;
      }
      const lead = await db.leads.get(tenantId, parsed.leadId);
      if (!lead || lead.campaignId !== parsed.campaignId) {
        settle(job, new GatewayError('LEASE_UNKNOWN'));
      } else if (lead.status === 'final') {
        settle(job, new GatewayError('LEASE_STALE', 'the lead was completed by another call since'));
      } else if (lead.status === 'queued') {
        adopt.push({ job, leadId: lead.id, phone: lead.phone });
      } else {
        // Removed (do-not-call, erasure) while Redis did not know the lease: the call happened,
        // its outcome is stored; the lead stays out of every queue.
        const campaign = await db.campaigns.get(tenantId, parsed.campaignId);
        const policy = campaign?.config.dispositions[job.item.outcome];
        if (!policy) {
          settle(job, new GatewayError('OUTCOME_UNKNOWN'));
          continue;
        }
        const attempts = lead.attempts + 1;
        const disposition = decideDisposition(
          policy,
          attempts,
          job.item.completedAt,
          job.by.agentId,
          job.item.callback,
        );
        decided.push({
          job,
          claimed: false,
          decision: {
            leaseId: job.item.leaseId as Completion['leaseId'],
            leadId: lead.id as Completion['leadId'],
            outcome: job.item.outcome,
            attempts,
            disposition,
            duplicate: false,
            late: true,
            dncPhone: disposition.kind === 'dnc' ? lead.phone : null,
          },
        });
      }
    }
    if (adopt.length > 0) {
      const items = adopt.map(({ job, leadId, phone }) => ({
        ...job.item,
        agentId: job.by.agentId,
        deviceId: job.by.deviceId,
        leadId,
        phone,
      }));
      // A queue marked stale (or found gone back in time by this very call) adopts nothing until
      // it is rebuilt: recovered once, as for a claim.
      const results = await afterRecovery(tenantId, items, now, (batch, at) =>
        store.adoptCompletions(tenantId, batch, at, options.holdMs),
      );
      results.forEach((r, i) => {
        const { job } = adopt[i]!;
        if (r.ok) decided.push({ job, decision: r, claimed: true });
        else if (r.code === 'LEASE_UNKNOWN')
          settle(job, new GatewayError('UNAVAILABLE', 'the queue is being rebuilt; retry the completion'));
        else settle(job, new GatewayError(r.code));
      });
    }
    return decided;
  }

  async function runTenant(tenantId: TenantId, jobs: Job[]): Promise<void> {
    const now = clock.now();
    const claims = await claim(tenantId, jobs, now);

    const decided: Decided[] = [];
    // Refused by the queue but maybe saved before (a retry after the queue forgot the lease):
    // Postgres decides, answering from its row when it holds this lease's outcome.
    const refused: { job: Job; code: 'LEASE_STALE' | 'LEASE_UNKNOWN' }[] = [];
    const doneBefore: Job[] = [];
    claims.forEach((r, i) => {
      const job = jobs[i]!;
      if (r.ok && r.duplicate) doneBefore.push(job);
      else if (r.ok) decided.push({ job, decision: r, claimed: true });
      else if (r.code === 'LEASE_STALE' || r.code === 'LEASE_UNKNOWN' || r.code === 'CAMPAIGN_UNKNOWN')
        refused.push({ job, code: r.code === 'CAMPAIGN_UNKNOWN' ? 'LEASE_UNKNOWN' : r.code });
      else settle(job, new GatewayError(r.code));
    });

    const onRecord: Map<string, LeaseOnRecord> =
      refused.length + doneBefore.length === 0
        ? new Map<string, LeaseOnRecord>()
        : await db.outcomes.lookupLeases(tenantId, [
            ...refused.map((r) => r.job.item.leaseId),
            ...doneBefore.map((j) => j.item.leaseId),
          ]);
    const unknown: Job[] = [];
    for (const { job, code } of refused) {
      const record = onRecord.get(job.item.leaseId);
      if (record && !isVoided(record) && record.agentId === job.by.agentId)
        await settleSaved(job, ackOf(record, true));
      else if (record) settle(job, new GatewayError('LEASE_STALE'));
      else if (code === 'LEASE_UNKNOWN') unknown.push(job);
      else settle(job, new GatewayError('LEASE_STALE'));
    }
    for (const job of doneBefore) {
      const record = onRecord.get(job.item.leaseId);
      if (record && !isVoided(record)) {
        // The first attempt may have failed after the queue applied it but before the number was
        // suppressed everywhere: suppress again (idempotent) before answering.
        if (record.disposition.kind === 'dnc') {
          const lead = await db.leads.get(tenantId, record.leadId);
          if (lead) await options.onDnc(tenantId, lead.phone);
        }
        await settleSaved(job, ackOf(record, true));
      } else {
        settle(
          job,
          new GatewayError('LEASE_STALE', 'this lease was completed, but its outcome is not on record'),
        );
      }
    }
    if (unknown.length > 0) decided.push(...(await orphans(tenantId, unknown, now)));
    if (decided.length === 0) return;

    // Commit: each write joins the writer's next group commit.
    const committed: { d: Decided; record: OutcomeRecord }[] = [];
    await Promise.all(
      decided.map(async (d) => {
        const { job, decision } = d;
        const p = job.payload;
        const input: OutcomeInput = {
          tenantId,
          campaignId: parseLeaseId(decision.leaseId).campaignId,
          leadId: decision.leadId,
          leaseId: decision.leaseId,
          agentId: job.by.agentId,
          deviceId: job.by.deviceId,
          outcome: decision.outcome,
          disposition: decision.disposition,
          attempts: decision.attempts,
          late: decision.late,
          durationSec: p.durationSec,
          ...(p.notes !== undefined ? { notes: p.notes } : {}),
          ...(p.tags !== undefined ? { tags: p.tags } : {}),
          ...(job.item.callback !== undefined ? { callback: job.item.callback } : {}),
          ...(p.followUp !== undefined ? { followUp: p.followUp } : {}),
          completedAt: job.item.completedAt,
          dncPhone: decision.dncPhone,
        };
        try {
          committed.push({ d, record: await db.outcomes.write(input) });
        } catch (err) {
          // Not committed (or refused: fenced out, conflicting): never acknowledged. The claim is
          // kept: a retry claims it again, or the reaper fences it out after the hold.
          fail(job, err);
        }
      }),
    );
    if (committed.length === 0) return;
    metrics.outcomeBatch.observe(committed.length);

    // Apply what Postgres holds (its row, for a completion another attempt committed first). A
    // retry that moves its lead to its next number is decided now and applied held back until the
    // move lands (next-number.ts), so the lead is never offered again on the number it is leaving.
    const toApply = committed.filter((c) => c.d.claimed);
    const moves = await numbers.plan(
      tenantId,
      toApply
        .filter((c) => !c.record.duplicate)
        .map((c) => ({
          campaignId: c.record.campaignId,
          leadId: c.record.leadId,
          leaseId: c.record.leaseId,
          outcome: c.record.outcome,
          disposition: c.record.disposition,
        })),
    );
    const planned = new Map(moves.map((m) => [m.leaseId, m]));
    if (toApply.length > 0) {
      try {
        const applied = await store.applyCompletions(
          tenantId,
          toApply.map((c) => numbers.held(planned, committedOf(c.record, c.d.job.by.agentId))),
          clock.now(),
        );
        applied.forEach((r, i) => {
          if (!r.ok)
            logger.warn({ leaseId: toApply[i]!.record.leaseId, code: r.code }, 'outcome.apply_skipped');
        });
      } catch (err) {
        // Saved in Postgres, so the answer is "saved"; the reaper applies it from the record when
        // the claim's hold runs out.
        logger.error({ err, tenantId }, 'outcome.apply_failed');
      }
    }
    // "Never offered once the addition is acknowledged": out of every queue before answering.
    for (const { d, record } of committed) {
      if (record.disposition.kind !== 'dnc') continue;
      const phone = d.decision.dncPhone ?? (await db.leads.get(tenantId, record.leadId))?.phone;
      if (phone) {
        try {
          await options.onDnc(tenantId, phone);
        } catch (err) {
          // Saved, but not yet out of every queue: not acknowledged, so the device retries and
          // the retry suppresses again (idempotent) before it is answered.
          fail(d.job, err);
        }
      }
    }
    await Promise.all(committed.map(({ d, record }) => settleSaved(d.job, ackOf(record, record.duplicate))));
    // A lead with several numbers that this call did not reach is tried on its next number
    // (next-number.ts); after the answers, so no device waits for it.
    await numbers.move(tenantId, moves);
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
          if (!isEngineError(err)) logger.error({ err, tenantId }, 'completion.batch_failed');
          for (const job of jobs) fail(job, err);
        }),
      ),
    );
  }

  return {
    submit(by, payload) {
      return new Promise<CompletionAck>((resolve, reject) => {
        const now = clock.now();
        const item = {
          leaseId: payload.leaseId,
          agentId: by.agentId,
          outcome: payload.outcome,
          ...(payload.callback ? { callback: payload.callback } : {}),
          completedAt: now,
        };
        queue.push({ by, payload, item, resolve, reject, answered: false });
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
