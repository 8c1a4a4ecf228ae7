// The retention purge as a periodic job: every tenant whose plan sets `retentionDays` is purged
// of call records older than that (db/privacy/retention.ts says what goes and what stays).
import type { Clock } from '../../engine/clock.js';
import type { Database } from '../../db/index.js';
import type { PurgeResult } from '../../db/privacy/index.js';
import type { Logger } from '../logger.js';
import type { PeriodicJob } from './jobs.js';

export const RETENTION_EVERY_MS = 3_600_000;

/** Purge every tenant with a retention period; one result per tenant. */
export async function runRetention(db: Database, clock: Clock, logger: Logger): Promise<PurgeResult[]> {
  const out: PurgeResult[] = [];
  for (const t of await db.privacy.retention.tenantsWithRetention()) {
    const r = await db.privacy.retention.purgeTenant(t.tenantId, t.retentionDays, clock.now());
    if (r.state === 'purged' && Object.values(r.counts).some((n) => n > 0))
      logger.info({ tenantId: t.tenantId, ...r.counts }, 'privacy.retention_purged');
    out.push(r);
  }
  return out;
}

export const retentionJob = (db: Database, clock: Clock, logger: Logger): PeriodicJob => ({
  name: 'retention',
  everyMs: RETENTION_EVERY_MS,
  run: async () => {
    await runRetention(db, clock, logger);
  },
});
