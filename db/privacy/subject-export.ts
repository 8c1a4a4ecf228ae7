// Access and portability: everything the tenant holds about one phone number, gathered from the
// system of record in one read-only snapshot: the leads in every campaign (those dialling it now
// and those holding it as a further number, with its place among theirs), each lead's call
// attempts (notes, tags, callbacks, follow-ups), pending and past callbacks, the do-not-call
// entry, whether the number is on the erasure list, the rights requests about it, and the audit
// entries about its leads.
import type { Knex } from 'knex';
import { z } from 'zod';
import { fromTimestamp, parseInput, PHONE_E164, tenantOf } from '../validate.js';
import type { RightsRequest, RightsRequestRepository } from './rights-requests.js';
import type { SubjectKeys } from './subject-keys.js';

const iso = (v: Date | null): string | null => (v === null ? null : new Date(fromTimestamp(v)).toISOString());

export interface SubjectExport {
  readonly phone: string;
  readonly generatedAt: string;
  readonly leads: readonly {
    id: string;
    campaignId: string;
    name: string;
    timeZone: string | null;
    priority: number;
    status: string;
    attempts: number;
    dueAt: string | null;
    pinnedAgentId: string | null;
    fields: Record<string, string>;
    createdAt: string | null;
    updatedAt: string | null;
    /** The number's place among the lead's numbers (1: the first), and whether it is dialled now. */
    number: { position: number; current: boolean };
  }[];
  readonly attempts: readonly {
    leaseId: string;
    campaignId: string;
    leadId: string;
    agentId: string;
    outcome: string;
    disposition: string;
    durationSec: number;
    notes: string | null;
    tags: string[];
    callbackAt: string | null;
    callbackScope: string | null;
    followUp: unknown;
    completedAt: string | null;
    /**
     * The number the call dialled: its place among the lead's numbers, and whether it was this
     * number (the number itself only then: a lead's other numbers are not this person's to read).
     * Null fields: not recorded (calls before the record was kept).
     */
    dialled: { position: number | null; phone: string | null; thisNumber: boolean | null };
  }[];
  readonly callbacks: readonly {
    id: string;
    campaignId: string;
    leadId: string;
    agentId: string | null;
    dueAt: string | null;
    status: string;
  }[];
  /** Follow-up messages sent (text as sent, channel, template, status, the attempt they follow). */
  readonly followUps: readonly {
    id: string;
    campaignId: string;
    leadId: string;
    leaseId: string | null;
    templateId: string;
    channel: string;
    body: string;
    status: string;
    sentAt: string | null;
    createdAt: string | null;
  }[];
  readonly dnc: { source: string; createdAt: string | null } | null;
  readonly erased: boolean;
  readonly rightsRequests: readonly RightsRequest[];
  readonly audit: readonly {
    id: string;
    at: string | null;
    actor: string;
    action: string;
    subject: string;
    details: unknown;
  }[];
}

interface LeadRow {
  tenant_id: string;
  phone: string;
  id: string;
  campaign_id: string;
  name: string;
  time_zone: string | null;
  priority: number;
  status: string;
  attempts: number;
  next_due_at: Date | null;
  pinned_agent_id: string | null;
  fields: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}
interface AttemptRow {
  tenant_id: string;
  lease_id: string;
  campaign_id: string;
  lead_id: string;
  agent_id: string;
  outcome: string;
  disposition: string;
  duration_sec: number;
  notes: string | null;
  tags: string[];
  callback_at: Date | null;
  callback_scope: string | null;
  follow_up: unknown;
  completed_at: Date;
  phone: string | null;
  phone_position: number | null;
}
interface CallbackRow {
  tenant_id: string;
  id: string;
  campaign_id: string;
  lead_id: string;
  agent_id: string | null;
  due_at: Date;
  status: string;
}
interface FollowupRow {
  tenant_id: string;
  id: string;
  campaign_id: string;
  lead_id: string;
  lease_id: string | null;
  template_id: string;
  channel: string;
  body: string;
  status: string;
  sent_at: Date | null;
  created_at: Date;
}
interface AuditRow {
  tenant_id: string;
  id: string;
  at: Date;
  actor: string;
  action: string;
  subject: string;
  details: unknown;
}

export async function exportSubject(
  knex: Knex,
  deps: { readonly keys: SubjectKeys; readonly requests: RightsRequestRepository },
  tenantId: string,
  phone: string,
  now: number,
): Promise<SubjectExport> {
  const tenant = tenantOf(tenantId);
  const number = parseInput(z.string().regex(PHONE_E164, 'must be an E.164 number'), phone, 'phone');
  const hash = await deps.keys.hashOf(tenant, number);
  return knex.transaction(
    async (trx) => {
      // Leads dialling the number now, and leads holding it as one of their further numbers.
      const { rows: leads } = await trx.raw<{ rows: (LeadRow & { position: number | null })[] }>(
        `SELECT l.*, p.position FROM leads l
         LEFT JOIN lead_phones p ON p.tenant_id = l.tenant_id AND p.lead_id = l.id AND p.phone = ?
         WHERE l.tenant_id = ? AND (l.phone = ? OR p.phone IS NOT NULL)
         ORDER BY l.id`,
        [number, tenant, number],
      );
      const ids = leads.map((l) => l.id);
      const attempts = ids.length
        ? await trx<AttemptRow>('call_attempts')
            .where({ tenant_id: tenant })
            .whereIn('lead_id', ids)
            .orderBy('id')
        : [];
      const callbacks = ids.length
        ? await trx<CallbackRow>('callbacks')
            .where({ tenant_id: tenant })
            .whereIn('lead_id', ids)
            .orderBy('id')
        : [];
      const followUps = ids.length
        ? await trx<FollowupRow>('followups')
            .where({ tenant_id: tenant })
            .whereIn('lead_id', ids)
            .orderBy('id')
        : [];
      const dnc = await trx<{ tenant_id: string; phone: string; source: string; created_at: Date }>('dnc')
        .where({ tenant_id: tenant, phone: number })
        .first();
      const erased = await trx<{ tenant_id: string; phone_hash: Buffer }>('suppressions')
        .where({ tenant_id: tenant, phone_hash: hash })
        .first();
      const audit = ids.length
        ? await trx<AuditRow>('audit_log')
            .where({ tenant_id: tenant })
            .where('action', 'like', 'lead%')
            .whereIn('subject', ids)
            .orderBy('id')
        : [];
      const requests = await deps.requests.forSubject(tenant, hash, now);
      return {
        phone: number,
        generatedAt: new Date(now).toISOString(),
        leads: leads.map((l) => ({
          id: l.id,
          campaignId: l.campaign_id,
          name: l.name,
          timeZone: l.time_zone,
          priority: l.priority,
          status: l.status,
          attempts: l.attempts,
          dueAt: iso(l.next_due_at),
          pinnedAgentId: l.pinned_agent_id,
          fields: l.fields,
          createdAt: iso(l.created_at),
          updatedAt: iso(l.updated_at),
          number: { position: l.position ?? 1, current: l.phone === number },
        })),
        attempts: attempts.map((a) => ({
          leaseId: a.lease_id,
          campaignId: a.campaign_id,
          leadId: a.lead_id,
          agentId: a.agent_id,
          outcome: a.outcome,
          disposition: a.disposition,
          durationSec: a.duration_sec,
          notes: a.notes,
          tags: a.tags,
          callbackAt: iso(a.callback_at),
          callbackScope: a.callback_scope,
          followUp: a.follow_up,
          completedAt: iso(a.completed_at),
          dialled: {
            position: a.phone_position,
            phone: a.phone === number ? number : null,
            thisNumber: a.phone === null ? null : a.phone === number,
          },
        })),
        callbacks: callbacks.map((c) => ({
          id: c.id,
          campaignId: c.campaign_id,
          leadId: c.lead_id,
          agentId: c.agent_id,
          dueAt: iso(c.due_at),
          status: c.status,
        })),
        followUps: followUps.map((f) => ({
          id: String(f.id),
          campaignId: f.campaign_id,
          leadId: String(f.lead_id),
          leaseId: f.lease_id,
          templateId: f.template_id,
          channel: f.channel,
          body: f.body,
          status: f.status,
          sentAt: iso(f.sent_at),
          createdAt: iso(f.created_at),
        })),
        dnc: dnc
          ? {
              source: (dnc as { source: string }).source,
              createdAt: iso((dnc as { created_at: Date }).created_at),
            }
          : null,
        erased: erased !== undefined,
        rightsRequests: requests,
        audit: audit.map((e) => ({
          id: e.id,
          at: iso(e.at),
          actor: e.actor,
          action: e.action,
          subject: e.subject,
          details: e.details,
        })),
      };
    },
    { readOnly: true, isolationLevel: 'repeatable read' },
  );
}

/** Record types of the CSV form, one row per record; `data` holds the record as JSON. */
export const EXPORT_CSV_COLUMNS = ['record', 'id', 'campaign_id', 'lead_id', 'at', 'data'] as const;

const csvCell = (v: string): string =>
  /[",\r\n]/.test(v) || /^[=+\-@\t]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;

/**
 * The export as CSV (RFC 4180): one row per lead, attempt, callback, do-not-call entry, rights
 * request and audit entry, so a spreadsheet opens it and nothing is lost (`data` is the JSON of
 * the record). Cells a spreadsheet would run as a formula are quoted.
 */
export function subjectExportCsv(e: SubjectExport): string {
  const rows: string[][] = [[...EXPORT_CSV_COLUMNS]];
  const add = (
    record: string,
    id: string,
    campaignId: string,
    leadId: string,
    at: string | null,
    data: unknown,
  ) => rows.push([record, id, campaignId, leadId, at ?? '', JSON.stringify(data)]);
  for (const l of e.leads) add('lead', l.id, l.campaignId, l.id, l.createdAt, { phone: e.phone, ...l });
  for (const a of e.attempts) add('attempt', a.leaseId, a.campaignId, a.leadId, a.completedAt, a);
  for (const c of e.callbacks) add('callback', c.id, c.campaignId, c.leadId, c.dueAt, c);
  for (const f of e.followUps) add('follow_up', f.id, f.campaignId, f.leadId, f.createdAt, f);
  if (e.dnc) add('dnc', e.phone, '', '', e.dnc.createdAt, e.dnc);
  if (e.erased) add('erasure', e.phone, '', '', null, { erased: true });
  for (const r of e.rightsRequests)
    add('rights_request', r.id, '', '', new Date(r.receivedAt).toISOString(), r);
  for (const a of e.audit) add('audit', a.id, '', a.subject, a.at, a);
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
