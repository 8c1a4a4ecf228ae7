// Call reports: totals per agent or per campaign over a time range (by when the call was
// completed): calls, contacts (attempts whose outcome the campaign's disposition policy counts as
// a contact), talk time and outcomes by code. Voided attempts (a lease fenced out) are not calls.
// Every query takes the tenant.
import type { Knex } from 'knex';
import { tenantOf } from './validate.js';

export interface ReportRange {
  /** Completed at or after (epoch ms). */
  readonly from: number;
  /** Completed before (epoch ms). */
  readonly to: number;
  readonly campaignId?: string | undefined;
  readonly agentId?: string | undefined;
}

export interface ReportRow {
  /** The agent id or campaign id the row totals. */
  readonly id: string;
  readonly calls: number;
  readonly contacts: number;
  readonly talkSec: number;
  /** Calls by outcome code. */
  readonly outcomes: Readonly<Record<string, number>>;
}

export interface Reports {
  byAgent(tenantId: string, range: ReportRange): Promise<ReportRow[]>;
  byCampaign(tenantId: string, range: ReportRange): Promise<ReportRow[]>;
}

export function createReports(knex: Knex): Reports {
  async function totals(tenantId: string, by: 'agent_id' | 'campaign_id', r: ReportRange) {
    const where = (q: Knex.QueryBuilder) => {
      q.where('a.tenant_id', tenantOf(tenantId))
        .where('a.voided', false)
        .where('a.completed_at', '>=', new Date(r.from))
        .where('a.completed_at', '<', new Date(r.to));
      if (r.campaignId !== undefined) q.where('a.campaign_id', r.campaignId);
      if (r.agentId !== undefined) q.where('a.agent_id', r.agentId);
      return q;
    };
    const sums = (await where(
      knex('call_attempts as a')
        .join('campaigns as c', function on() {
          this.on('c.tenant_id', '=', 'a.tenant_id').andOn('c.id', '=', 'a.campaign_id');
        })
        .select(`a.${by} as id`)
        .select(knex.raw('count(*)::int AS calls'))
        .select(
          knex.raw(
            `count(*) FILTER (WHERE coalesce((c.dispositions -> a.outcome ->> 'contact')::boolean, false))::int AS contacts`,
          ),
        )
        .select(knex.raw('coalesce(sum(a.duration_sec), 0)::int AS talk_sec'))
        .groupBy(`a.${by}`)
        .orderBy(`a.${by}`),
    )) as { id: string; calls: number; contacts: number; talk_sec: number }[];
    const outcomes = (await where(
      knex('call_attempts as a')
        .select(`a.${by} as id`, 'a.outcome')
        .select(knex.raw('count(*)::int AS n'))
        .groupBy(`a.${by}`, 'a.outcome'),
    )) as { id: string; outcome: string; n: number }[];
    const byId = new Map<string, Record<string, number>>();
    for (const o of outcomes) {
      const m = byId.get(o.id) ?? {};
      m[o.outcome] = o.n;
      byId.set(o.id, m);
    }
    return sums.map((s) => ({
      id: s.id,
      calls: s.calls,
      contacts: s.contacts,
      talkSec: s.talk_sec,
      outcomes: byId.get(s.id) ?? {},
    }));
  }
  return {
    byAgent: (tenantId, range) => totals(tenantId, 'agent_id', range),
    byCampaign: (tenantId, range) => totals(tenantId, 'campaign_id', range),
  };
}
