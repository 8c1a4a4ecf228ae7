// The campaign tiles of one tenant: queue depth from the engine, call figures from Postgres,
// agents by state and floor averages from the floor, and — when a campaign has nothing ready to
// dial — why (paused, window closed in the leads' zones, all scheduled, all leased, DNC, no leads
// left). Computed once per interval per tenant whatever the number of supervisors watching.
import { DateTime } from 'luxon';
import type { Clock } from '../../engine/clock.js';
import { isEngineError } from '../../engine/errors.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { QueueStats, QueueStore } from '../../engine/queue-store.js';
import { emptyCallFigures } from '../../db/index.js';
import type { Campaign, CampaignCallFigures, Database, WallboardRepository } from '../../db/index.js';
import type { AgentStateName } from '../protocol/schemas.js';
import type { TenantFloor } from './floor.js';
import type { CampaignTile, EmptyReason, FloorAverages } from './protocol.js';

export interface CounterSources {
  readonly db: Database;
  readonly wallboard: WallboardRepository;
  readonly store: QueueStore;
  readonly clock: Clock;
}

/** Midnight of `now`'s day in the time zone, as epoch ms (DST-correct). */
export function startOfDay(now: number, timeZone: string): number {
  return DateTime.fromMillis(now, { zone: timeZone }).startOf('day').toMillis();
}

const ZERO_AVERAGES: FloorAverages = { waitSec: 0, talkSec: 0, wrapSec: 0, pauseSec: 0 };

/** Why a campaign has nothing to dial now, or null when it has. */
export function emptyReason(
  status: string,
  queue: QueueStats | null,
  leads: CampaignCallFigures['leads'],
): { reason: EmptyReason; detail: string } | null {
  if (status !== 'active') return { reason: 'paused', detail: `The campaign is ${status}.` };
  if (!queue) return null;
  if (queue.ready > 0) {
    const openReady = queue.zones.filter((z) => z.open && z.ready > 0).length;
    if (openReady > 0) return null;
    const closed = queue.zones.filter((z) => z.ready > 0).map((z) => z.zone);
    return {
      reason: 'window_closed',
      detail: `${queue.ready} ready, but outside calling hours in ${closed.slice(0, 3).join(', ')}${closed.length > 3 ? ' …' : ''}.`,
    };
  }
  if (queue.scheduled > 0 && queue.leased === 0)
    return {
      reason: 'all_scheduled',
      detail: `All ${queue.scheduled} queued leads are scheduled for later.`,
    };
  if (queue.leased > 0 && queue.scheduled === 0)
    return { reason: 'all_leased', detail: `All ${queue.leased} queued leads are with agents now.` };
  if (queue.leased > 0)
    return {
      reason: 'all_scheduled',
      detail: `${queue.scheduled} scheduled for later, ${queue.leased} with agents now.`,
    };
  if (leads.removed > 0 && leads.final === 0)
    return { reason: 'dnc', detail: `Every remaining lead (${leads.removed}) is on the do-not-call list.` };
  if (leads.removed > 0)
    return {
      reason: 'dnc',
      detail: `No lead left: ${leads.final} finished, ${leads.removed} on the do-not-call list.`,
    };
  return {
    reason: 'no_leads',
    detail: leads.final > 0 ? `No lead left: all ${leads.final} are finished.` : 'No leads loaded.',
  };
}

export async function campaignTiles(
  sources: CounterSources,
  tenantId: string,
  timeZone: string,
  floor: TenantFloor,
): Promise<{ campaigns: CampaignTile[]; agentAverages: Record<string, FloorAverages> }> {
  const { db, wallboard, store, clock } = sources;
  const now = clock.now();
  const ids = await db.campaigns.listIds(tenantId);
  const campaigns = (await Promise.all(ids.map((id) => db.campaigns.get(tenantId, id)))).filter(
    (c): c is Campaign => c !== undefined && c.status !== 'archived',
  );
  const figures = await wallboard.callFigures(tenantId, startOfDay(now, timeZone), now);
  const averages = floor.averages(now);
  const byState = new Map<string, Partial<Record<AgentStateName, number>>>();
  for (const t of floor.tiles(null)) {
    if (t.campaignId === null) continue;
    const m = byState.get(t.campaignId) ?? {};
    m[t.state] = (m[t.state] ?? 0) + 1;
    byState.set(t.campaignId, m);
  }
  const tiles = await Promise.all(
    campaigns.map(async (c): Promise<CampaignTile> => {
      const ref: CampaignRef = { tenantId: c.tenantId, campaignId: c.id };
      let queue: QueueStats | null = null;
      if (c.status === 'active') {
        try {
          queue = await store.stats(ref, now);
        } catch (err) {
          if (!isEngineError(err)) throw err;
        }
      }
      const f = figures.get(c.id) ?? emptyCallFigures(c.id);
      const contact = (code: string): boolean => c.config.dispositions[code]?.contact === true;
      const sum = (m: Readonly<Record<string, number>>, keep: (code: string) => boolean) =>
        Object.entries(m).reduce((n, [code, v]) => (keep(code) ? n + v : n), 0);
      const contactsToday = sum(f.outcomesToday, contact);
      const empty = emptyReason(c.status, queue, f.leads);
      return {
        id: c.id,
        name: c.name,
        status: c.status,
        queue: queue ? { ready: queue.ready, scheduled: queue.scheduled, leased: queue.leased } : null,
        callbacksDue: f.callbacksDue,
        callsToday: f.callsToday,
        contactsPerHour: sum(f.outcomesLastHour, contact),
        answerRate: f.callsToday === 0 ? null : contactsToday / f.callsToday,
        ahtSec: f.callsToday === 0 ? null : Math.round(f.talkSecToday / f.callsToday),
        agentsByState: byState.get(c.id) ?? {},
        perMinute: f.perMinute,
        emptyReason: empty?.reason ?? null,
        emptyDetail: empty?.detail ?? null,
        averages: averages.campaigns[c.id] ?? ZERO_AVERAGES,
      };
    }),
  );
  return { campaigns: tiles, agentAverages: averages.agents };
}
