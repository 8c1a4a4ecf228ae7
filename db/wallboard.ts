// What the live wallboard reads from the system of record: the tenant's agents (names for the
// tiles), its wallboard settings (time zone, escalation thresholds), and per-campaign call
// figures (calls since a given midnight, outcomes by code, talk time, calls per minute of the
// last hour, callbacks due). Every query is scoped by tenant; void lease rows are not calls.
import type { Knex } from 'knex';
import { z } from 'zod';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { parseInput, tenantOf, toTimestamp } from './validate.js';

const AGENT_STATES = ['offline', 'ready', 'offered', 'dialing', 'on_call', 'wrap_up', 'paused'] as const;

export const wallboardSettingsSchema = z.strictObject({
  timeZone: z
    .string()
    .min(1)
    .max(64)
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'must be an IANA time zone such as Europe/London'),
  /** Seconds in a state before its tile escalates: [warn, alert]. */
  thresholds: z
    .partialRecord(
      z.enum(AGENT_STATES),
      z
        .tuple([z.number().int().min(1).max(86_400), z.number().int().min(1).max(86_400)])
        .refine(([w, a]) => w <= a, 'warn must not be later than alert'),
    )
    .default({}),
});
export type WallboardSettingsInput = z.input<typeof wallboardSettingsSchema>;
export type StoredWallboardSettings = z.output<typeof wallboardSettingsSchema>;

/** VICIdial-like defaults: a long wait, a long call, a long wrap-up or pause stand out. */
export const DEFAULT_THRESHOLDS: StoredWallboardSettings['thresholds'] = {
  ready: [120, 300],
  offered: [10, 20],
  on_call: [600, 1200],
  wrap_up: [60, 180],
  paused: [300, 900],
};

export interface CampaignCallFigures {
  readonly campaignId: string;
  /** Calls completed since `since`, by outcome code. */
  readonly outcomesToday: Readonly<Record<string, number>>;
  readonly callsToday: number;
  /** Sum of reported call durations since `since`. */
  readonly talkSecToday: number;
  /** Calls completed in the last hour, by outcome code. */
  readonly outcomesLastHour: Readonly<Record<string, number>>;
  /** Calls per minute, the last 60 minutes, oldest first. */
  readonly perMinute: readonly number[];
  readonly callbacksDue: number;
  /** Leads of the campaign by status in Postgres. */
  readonly leads: Readonly<Record<'queued' | 'final' | 'removed', number>>;
}

/** CampaignCallFigures while they are being counted. */
interface Mutable {
  campaignId: string;
  outcomesToday: Record<string, number>;
  callsToday: number;
  talkSecToday: number;
  outcomesLastHour: Record<string, number>;
  perMinute: number[];
  callbacksDue: number;
  leads: Record<'queued' | 'final' | 'removed', number>;
}

const newFigures = (campaignId: string): Mutable => ({
  campaignId,
  outcomesToday: {},
  callsToday: 0,
  talkSecToday: 0,
  outcomesLastHour: {},
  perMinute: new Array<number>(60).fill(0),
  callbacksDue: 0,
  leads: { queued: 0, final: 0, removed: 0 },
});

/** The figures of a campaign with no calls and no leads yet. */
export const emptyCallFigures = (campaignId: string): CampaignCallFigures => newFigures(campaignId);

export interface WallboardRepository {
  agents(tenantId: string): Promise<{ id: string; name: string }[]>;
  settings(tenantId: string): Promise<StoredWallboardSettings>;
  saveSettings(tenantId: string, input: WallboardSettingsInput): Promise<StoredWallboardSettings>;
  /** Figures for each campaign of the tenant: `since` is the tenant's midnight, `now` the clock. */
  callFigures(tenantId: string, since: number, now: number): Promise<Map<string, CampaignCallFigures>>;
}

const MINUTE = 60_000;

export function createWallboardRepository(knex: Knex): WallboardRepository {
  return {
    async agents(tenantId) {
      const rows = await knex('users')
        .select<{ id: string; name: string }[]>('id', 'name')
        .where({ tenant_id: tenantOf(tenantId), role: 'agent' })
        .orderBy('id');
      return rows;
    },

    async settings(tenantId) {
      const row = await knex('wallboard_settings')
        .select<{ time_zone: string; thresholds: Record<string, unknown> }[]>('time_zone', 'thresholds')
        .where({ tenant_id: tenantOf(tenantId) })
        .first();
      if (!row) return { timeZone: 'UTC', thresholds: DEFAULT_THRESHOLDS };
      return parseInput(
        wallboardSettingsSchema,
        { timeZone: row.time_zone, thresholds: { ...DEFAULT_THRESHOLDS, ...row.thresholds } },
        'wallboard settings',
      );
    },

    async saveSettings(tenantId, input) {
      const s = parseInput(wallboardSettingsSchema, input, 'wallboard settings');
      try {
        await knex('wallboard_settings')
          .insert({
            tenant_id: tenantOf(tenantId),
            time_zone: s.timeZone,
            thresholds: JSON.stringify(s.thresholds),
          })
          .onConflict('tenant_id')
          .merge({
            time_zone: s.timeZone,
            thresholds: JSON.stringify(s.thresholds),
            updated_at: knex.fn.now(),
          });
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
      return s;
    },

    async callFigures(tenantId, since, now) {
      const tenant = tenantOf(tenantId);
      const hourAgo = now - 60 * MINUTE;
      const firstMinute = Math.floor(now / MINUTE) * MINUTE - 59 * MINUTE;
      const from = toTimestamp(Math.min(since, hourAgo, firstMinute));
      // One pass over the calls of the day (and the last hour, which may begin before midnight).
      const calls = await knex.raw<{
        rows: {
          campaign_id: string;
          outcome: string;
          today: string;
          last_hour: string;
          talk: string;
        }[];
      }>(
        `SELECT campaign_id, outcome,
                count(*) FILTER (WHERE completed_at >= ?) AS today,
                count(*) FILTER (WHERE completed_at >= ?) AS last_hour,
                coalesce(sum(duration_sec) FILTER (WHERE completed_at >= ?), 0) AS talk
           FROM call_attempts
          WHERE tenant_id = ? AND NOT voided AND completed_at >= ?
          GROUP BY campaign_id, outcome`,
        [toTimestamp(since), toTimestamp(hourAgo), toTimestamp(since), tenant, from],
      );
      const minutes = await knex.raw<{ rows: { campaign_id: string; minute: string; n: string }[] }>(
        `SELECT campaign_id,
                floor(extract(epoch FROM completed_at) * 1000 / ${MINUTE})::bigint AS minute,
                count(*) AS n
           FROM call_attempts
          WHERE tenant_id = ? AND NOT voided AND completed_at >= ?
          GROUP BY 1, 2`,
        [tenant, toTimestamp(firstMinute)],
      );
      const callbacks = await knex('callbacks')
        .select<{ campaign_id: string; n: string }[]>('campaign_id', knex.raw('count(*) AS n'))
        .where({ tenant_id: tenant, status: 'pending' })
        .where('due_at', '<=', toTimestamp(now))
        .groupBy('campaign_id');
      const leads = await knex('leads')
        .select<{ campaign_id: string; status: 'queued' | 'final' | 'removed'; n: string }[]>(
          'campaign_id',
          'status',
          knex.raw('count(*) AS n'),
        )
        .where({ tenant_id: tenant })
        .groupBy('campaign_id', 'status');

      const out = new Map<string, Mutable>();
      const of = (campaignId: string): Mutable => {
        let f = out.get(campaignId);
        if (!f) {
          f = newFigures(campaignId);
          out.set(campaignId, f);
        }
        return f;
      };
      for (const r of calls.rows) {
        const f = of(r.campaign_id);
        const today = Number(r.today);
        const lastHour = Number(r.last_hour);
        if (today > 0) f.outcomesToday[r.outcome] = today;
        if (lastHour > 0) f.outcomesLastHour[r.outcome] = lastHour;
        f.callsToday += today;
        f.talkSecToday += Number(r.talk);
      }
      const base = firstMinute / MINUTE;
      for (const r of minutes.rows) {
        const i = Number(r.minute) - base;
        if (i >= 0 && i < 60) of(r.campaign_id).perMinute[i] = Number(r.n);
      }
      for (const r of callbacks) of(r.campaign_id).callbacksDue = Number(r.n);
      for (const r of leads) of(r.campaign_id).leads[r.status] = Number(r.n);
      return out;
    },
  };
}
