// Input checks shared by both stores, applied before a store touches anything, so malformed
// requests fail the same way (same code) whichever store is behind the engine.
import { z } from 'zod';
import { outcomeCodeSchema } from './disposition.js';
import type { CallbackRequest } from './disposition.js';
import { EngineError } from './errors.js';
import type { CampaignRef, TenantId } from './ids.js';
import { agentIdSchema, deviceIdSchema } from './ids.js';
import { parseLeaseId } from './lease.js';
import type { ParsedLeaseId } from './lease.js';
import type { CommittedCompletion, CompletionInput, HeldLease, ReadyAgent } from './queue-store.js';
import { encodeCompletionResult } from './completion.js';

const CALLBACK_HORIZON_MS = 366 * 86_400_000;

export const callbackSchema = z.object({
  at: z.number().int().min(0),
  scope: z.enum(['agent', 'anyone']),
});

export interface CheckedCompletion {
  readonly ref: CampaignRef;
  readonly lease: ParsedLeaseId;
  readonly leaseId: string;
  readonly agentId: string;
  readonly outcome: string;
  readonly callback: CallbackRequest | undefined;
  readonly completedAt: number;
}

/** Check one completion; returns the error to report for it instead of throwing. */
export function checkCompletion(
  tenantId: TenantId,
  item: CompletionInput,
  now: number,
): CheckedCompletion | EngineError {
  let lease: ParsedLeaseId;
  try {
    lease = parseLeaseId(item.leaseId);
  } catch (err) {
    return err as EngineError;
  }
  if (item.agentId !== undefined && !agentIdSchema.safeParse(item.agentId).success) {
    return new EngineError('LEASE_NOT_OWNED');
  }
  if (!outcomeCodeSchema.safeParse(item.outcome).success) {
    return new EngineError('OUTCOME_UNKNOWN', undefined, { outcome: String(item.outcome).slice(0, 40) });
  }
  const completedAt = item.completedAt ?? now;
  if (!Number.isInteger(completedAt) || completedAt < 0 || completedAt > now) {
    return new EngineError('INPUT_INVALID', 'completedAt must be an integer epoch ms no later than now');
  }
  let callback: CallbackRequest | undefined;
  if (item.callback !== undefined) {
    const parsed = callbackSchema.safeParse(item.callback);
    if (!parsed.success || parsed.data.at > now + CALLBACK_HORIZON_MS) {
      return new EngineError('CALLBACK_INVALID', 'callback needs { at: epoch ms within a year, scope }');
    }
    callback = parsed.data;
  }
  return {
    ref: { tenantId, campaignId: lease.campaignId },
    lease,
    leaseId: item.leaseId,
    agentId: item.agentId ?? '',
    outcome: item.outcome,
    callback,
    completedAt,
  };
}

export function checkLeaseRef(
  tenantId: TenantId,
  leaseId: string,
): { ref: CampaignRef; lease: ParsedLeaseId } {
  const lease = parseLeaseId(leaseId);
  return { ref: { tenantId, campaignId: lease.campaignId }, lease };
}

const SESSION = /^[A-Za-z0-9_.:-]{0,64}$/;

export function checkAgents(agents: readonly ReadyAgent[]): void {
  for (const a of agents) {
    if (!agentIdSchema.safeParse(a.agentId).success || !deviceIdSchema.safeParse(a.deviceId).success) {
      throw new EngineError(
        'INPUT_INVALID',
        'agent and device ids must be 1-64 characters of A-Z a-z 0-9 _ -',
      );
    }
    checkSession(a.session);
  }
}

export function checkSession(session: string | undefined): void {
  if (session !== undefined && !SESSION.test(session)) {
    throw new EngineError('INPUT_INVALID', 'a session must be at most 64 characters of A-Z a-z 0-9 _ . : -');
  }
}

export interface CheckedCommit {
  readonly ref: CampaignRef;
  readonly lease: ParsedLeaseId;
  readonly leaseId: string;
  readonly agentId: string;
  /** The committed result, as the stores record it on a done lease. */
  readonly result: string;
}

/** Check one committed completion; returns the error to report for it instead of throwing. */
export function checkCommit(tenantId: TenantId, item: CommittedCompletion): CheckedCommit | EngineError {
  let lease: ParsedLeaseId;
  try {
    lease = parseLeaseId(item.leaseId);
  } catch (err) {
    return err as EngineError;
  }
  if (item.agentId !== undefined && !agentIdSchema.safeParse(item.agentId).success) {
    return new EngineError('LEASE_NOT_OWNED');
  }
  if (!outcomeCodeSchema.safeParse(item.outcome).success) {
    return new EngineError('OUTCOME_UNKNOWN', undefined, { outcome: String(item.outcome).slice(0, 40) });
  }
  if (!Number.isInteger(item.attempts) || item.attempts < 1) {
    return new EngineError('INPUT_INVALID', 'attempts must be a positive integer');
  }
  return {
    ref: { tenantId, campaignId: lease.campaignId },
    lease,
    leaseId: item.leaseId,
    agentId: item.agentId ?? '',
    result: encodeCompletionResult(item.outcome, item.attempts, item.disposition, item.leadId, item.late),
  };
}

export function checkTtl(ms: number, name: string): void {
  if (!Number.isInteger(ms) || ms <= 0 || ms > 86_400_000) {
    throw new RangeError(`${name} must be a positive integer number of ms up to a day`);
  }
}

export function checkPhones(phones: readonly string[]): string[] {
  return phones.map((p) => {
    if (!/^\+[1-9]\d{6,14}$/.test(p)) throw new EngineError('INPUT_INVALID', 'numbers must be E.164');
    return p.slice(1);
  });
}

/** Group items by campaign, keeping each item's position for the reply. */
export function groupByCampaign<T extends { ref: CampaignRef }>(items: readonly (T | EngineError)[]) {
  const groups = new Map<string, { ref: CampaignRef; entries: { index: number; item: T }[] }>();
  items.forEach((item, index) => {
    if (item instanceof EngineError) return;
    const key = `${item.ref.tenantId}\x00${item.ref.campaignId}`;
    let g = groups.get(key);
    if (!g) {
      g = { ref: item.ref, entries: [] };
      groups.set(key, g);
    }
    g.entries.push({ index, item });
  });
  return [...groups.values()];
}

const STATE_OF_PHASE = { offered: 'o', dialing: 'a', on_call: 'n', wrap_up: 'w' } as const;

export interface CheckedHeld extends HeldLease {
  readonly epoch: string;
  readonly counter: number;
  /** The lease record state letter of its phase. */
  readonly state: 'o' | 'a' | 'n' | 'w';
  readonly digits: string;
}

/** The held calls of this campaign that are well formed (the rest are left to their devices). */
export function checkHeld(ref: CampaignRef, held: readonly HeldLease[]): CheckedHeld[] {
  return held.flatMap((h) => {
    try {
      const id = parseLeaseId(h.leaseId);
      if (id.campaignId !== ref.campaignId || id.leadId !== h.lead.id) return [];
      checkAgents([{ agentId: h.agentId, deviceId: h.deviceId }]);
      const [digits] = checkPhones([h.lead.phone]);
      if (!Number.isInteger(h.expiresAt)) return [];
      return [
        { ...h, epoch: id.epoch, counter: id.counter, state: STATE_OF_PHASE[h.phase], digits: digits! },
      ];
    } catch {
      return [];
    }
  });
}
