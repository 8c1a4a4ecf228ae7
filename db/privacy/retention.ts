// Retention: a tenant's plan may say how long call records are kept (`retentionDays`). Older
// records are deleted, and only counts survive, in an audit entry:
//  - call attempts (outcome, notes, tags, follow-ups) completed before the cutoff, except one
//    whose callback is still pending (the lead still needs it);
//  - finished leads (final or removed) last changed before the cutoff, with what hangs off them;
//  - the rejects of lead imports finished before the cutoff (they quote raw spreadsheet cells);
//  - webhook events created before the cutoff that have nothing left to deliver;
//  - follow-ups (their text names the person) made before the cutoff and no longer pending
//    (those of purged attempts and leads go with them).
// The audit log and the rights requests are kept: they are the proof of compliance.
//
// One runner at a time per tenant across gateways: each tenant's purge is one transaction that
// first takes a transaction-scoped advisory lock without waiting; a gateway that finds it taken
// skips the tenant (another is purging it), and a second run afterwards finds nothing to delete.
import type { Knex } from 'knex';
import { z } from 'zod';
import { tenantOf, toTimestamp } from '../validate.js';

const DAY_MS = 86_400_000;

/** The part of the tenant's plan this reads (tenants.plan is open to extra keys). */
export const retentionPlanSchema = z.looseObject({
  retentionDays: z.number().int().min(1).max(36_500).optional(),
});

export interface PurgeCounts {
  readonly attempts: number;
  readonly leads: number;
  readonly importRejects: number;
  readonly webhookEvents: number;
  readonly followUps: number;
}

export type PurgeResult =
  | {
      readonly tenantId: string;
      readonly state: 'purged';
      readonly cutoff: number;
      readonly counts: PurgeCounts;
    }
  | { readonly tenantId: string; readonly state: 'busy' };

export interface Retention {
  /** Tenants whose plan sets a retention period, with it (the one cross-tenant read here). */
  tenantsWithRetention(): Promise<{ tenantId: string; retentionDays: number }[]>;
  /** Purge one tenant's records older than `retentionDays` before `now`. */
  purgeTenant(tenantId: string, retentionDays: number, now: number): Promise<PurgeResult>;
}

/** The advisory lock's two keys: this job, and the tenant. */
const LOCK = `pg_try_advisory_xact_lock(hashtext('dialhub.retention'), hashtext(?)) AS locked`;

export function createRetention(knex: Knex): Retention {
  return {
    async tenantsWithRetention() {
      const rows = await knex('tenants').select<{ id: string; plan: unknown }[]>('id', 'plan').orderBy('id');
      return rows.flatMap((r) => {
        const plan = retentionPlanSchema.safeParse(r.plan);
        const days = plan.success ? plan.data.retentionDays : undefined;
        return days === undefined ? [] : [{ tenantId: r.id, retentionDays: days }];
      });
    },

    async purgeTenant(tenantId, retentionDays, now) {
      const tenant = tenantOf(tenantId);
      const cutoff = now - retentionDays * DAY_MS;
      const at = toTimestamp(cutoff);
      return knex.transaction(async (trx): Promise<PurgeResult> => {
        const { rows } = await trx.raw<{ rows: { locked: boolean }[] }>(`SELECT ${LOCK}`, [tenant]);
        if (!rows[0]!.locked) return { tenantId: tenant, state: 'busy' };
        const attempts = await trx.raw<{ rowCount: number }>(
          `DELETE FROM call_attempts a
            WHERE a.tenant_id = ? AND a.completed_at < ?
              AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.tenant_id = a.tenant_id
                                AND c.lease_id = a.lease_id AND c.status = 'pending')`,
          [tenant, at],
        );
        const leads = await trx.raw<{ rowCount: number }>(
          `DELETE FROM leads WHERE tenant_id = ? AND status IN ('final', 'removed') AND updated_at < ?`,
          [tenant, at],
        );
        const rejects = await trx.raw<{ rowCount: number }>(
          `DELETE FROM lead_import_rejects r USING lead_imports i
            WHERE r.tenant_id = ? AND i.tenant_id = r.tenant_id AND i.id = r.import_id
              AND coalesce(i.finished_at, i.created_at) < ?`,
          [tenant, at],
        );
        const events = await trx.raw<{ rowCount: number }>(
          `DELETE FROM webhook_events e
            WHERE e.tenant_id = ? AND e.created_at < ?
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.tenant_id = e.tenant_id
                                AND d.event_id = e.id AND d.status = 'pending')`,
          [tenant, at],
        );
        const followUps = await trx.raw<{ rowCount: number }>(
          `DELETE FROM followups WHERE tenant_id = ? AND created_at < ? AND status <> 'pending'`,
          [tenant, at],
        );
        const counts = {
          attempts: attempts.rowCount,
          leads: leads.rowCount,
          importRejects: rejects.rowCount,
          webhookEvents: events.rowCount,
          followUps: followUps.rowCount,
        };
        if (Object.values(counts).some((n) => n > 0)) {
          await trx('audit_log').insert({
            tenant_id: tenant,
            actor: 'system',
            action: 'retention.purge',
            subject: '',
            details: JSON.stringify({ cutoff: at, retentionDays, ...counts }),
          });
        }
        return { tenantId: tenant, state: 'purged', cutoff, counts };
      });
    },
  };
}
