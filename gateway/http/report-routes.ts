// Reports: call attempts by date range, campaign and agent as JSON pages or one CSV download, and
// totals per agent or per campaign (calls, contacts, talk time, outcomes by code) over a range.
// Supervisors read them; the tenant is the credential's.
import { Router } from 'express';
import type { RequestHandler } from 'express';
import { z } from 'zod';
import { agentIdSchema, campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { createReports } from '../../db/index.js';
import type { AttemptView, Database } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import { requireRole } from './access.js';

const DAY_MS = 86_400_000;
/** The longest range a report covers (a year and a day). */
export const MAX_REPORT_RANGE_MS = 367 * DAY_MS;
/** Rows per page when the CSV download reads the attempts. */
const CSV_PAGE = 2_000;

const tenantParams = z.object({ tenantId: tenantIdSchema });
const instant = z.iso
  .datetime({ offset: true })
  .transform((s) => Date.parse(s))
  .describe('ISO 8601 date-time with offset, e.g. 2026-11-01T00:00:00Z');

const rangeShape = {
  /** Completed at or after; default: `to` minus 30 days. */
  from: instant.optional(),
  /** Completed before; default: now. */
  to: instant.optional(),
  campaignId: campaignIdSchema.optional(),
  agentId: agentIdSchema.optional(),
};

export const attemptReportQuerySchema = z.object({
  after: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  leadId: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
  ...rangeShape,
  format: z.enum(['json', 'csv']).default('json'),
});

export const totalsQuerySchema = z.object(rangeShape);

const reportRowSchema = z.object({
  id: z.string(),
  calls: z.number().int(),
  contacts: z.number().int(),
  talkSec: z.number().int(),
  outcomes: z.record(z.string(), z.number().int()),
});
export const totalsResponseSchema = z.object({
  from: z.string(),
  to: z.string(),
  items: z.array(reportRowSchema),
  total: reportRowSchema.omit({ id: true }),
});

function rangeOf(q: { from?: number | undefined; to?: number | undefined }, now: number) {
  const to = q.to ?? now;
  const from = q.from ?? to - 30 * DAY_MS;
  if (from >= to) throw new GatewayError('INPUT_INVALID', 'from: must be before to');
  if (to - from > MAX_REPORT_RANGE_MS)
    throw new GatewayError('INPUT_INVALID', 'from: a report covers at most 367 days');
  return { from, to };
}

export const ATTEMPT_CSV_COLUMNS = [
  'id',
  'completedAt',
  'campaignId',
  'leadId',
  'agentId',
  'deviceId',
  'outcome',
  'disposition',
  'durationSec',
  'callbackAt',
  'tags',
  'notes',
] as const;

/** A cell for a spreadsheet: quoted when needed, and never read as a formula. */
function cell(value: string | number | readonly string[] | null): string {
  let s = value === null ? '' : typeof value === 'object' ? value.join(' ') : String(value);
  if (/^[=@+\-\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvLine = (a: AttemptView): string => ATTEMPT_CSV_COLUMNS.map((c) => cell(a[c])).join(',') + '\r\n';

export function reportRoutes(db: Database): Router {
  const router = Router({ mergeParams: true });
  const supervisor = requireRole('supervisor');
  const reports = createReports(db.knex);

  router.get('/tenants/:tenantId/attempts', supervisor, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const q = attemptReportQuerySchema.parse(req.query);
    // Without a range the list is every attempt (as before ranges existed); with one, that range.
    const range = q.from !== undefined || q.to !== undefined ? rangeOf(q, Date.now()) : {};
    const filter = { campaignId: q.campaignId, agentId: q.agentId, leadId: q.leadId, ...range };
    if (q.format === 'json') {
      res.json(await db.reads.attempts(tenantId, { after: q.after, limit: q.limit, ...filter }));
      return;
    }
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="attempts-${tenantId}.csv"`);
    res.write(`\ufeff${ATTEMPT_CSV_COLUMNS.join(',')}\r\n`);
    let after: string | undefined = q.after;
    for (;;) {
      const page = await db.reads.attempts(tenantId, { after, limit: CSV_PAGE, ...filter });
      if (page.items.length > 0) res.write(page.items.map(csvLine).join(''));
      if (page.next === null) break;
      after = page.next;
    }
    res.end();
  });

  const totals =
    (by: 'byAgent' | 'byCampaign'): RequestHandler =>
    async (req, res) => {
      const { tenantId } = tenantParams.parse(req.params);
      const q = totalsQuerySchema.parse(req.query);
      const range = rangeOf(q, Date.now());
      const items = await reports[by](tenantId, { ...range, campaignId: q.campaignId, agentId: q.agentId });
      const total = { calls: 0, contacts: 0, talkSec: 0, outcomes: {} as Record<string, number> };
      for (const r of items) {
        total.calls += r.calls;
        total.contacts += r.contacts;
        total.talkSec += r.talkSec;
        for (const [code, n] of Object.entries(r.outcomes))
          total.outcomes[code] = (total.outcomes[code] ?? 0) + n;
      }
      res.json({
        from: new Date(range.from).toISOString(),
        to: new Date(range.to).toISOString(),
        items,
        total,
      });
    };

  router.get('/tenants/:tenantId/reports/agents', supervisor, totals('byAgent'));
  router.get('/tenants/:tenantId/reports/campaigns', supervisor, totals('byCampaign'));
  return router;
}
