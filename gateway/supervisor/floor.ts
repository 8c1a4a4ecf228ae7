// One tenant's floor as this gateway knows it: every agent's current state (from the agent state
// machine, wherever the agent is connected) and the states each agent went through in the last
// hour, which is what the replay slider and the floor averages read.
//
// Each state record carries the moment the hub published it (`at`, the gateways' shared clock),
// so the state at any moment T is the latest record published at or before T: a point-in-time
// reconstruction needs no checkpoints, and changes that arrive out of order (two gateways, one
// adapter) are put in their place. `since` (when the state began) is what the tile shows; `at`
// orders, because a newer session's login state can have begun before the older one went offline.
import type { AgentStateName } from '../protocol/schemas.js';
import { AGENT_STATES } from '../protocol/schemas.js';
import type { AgentDelta, AgentTile, FloorAverages } from './protocol.js';

const STATE_CODE = new Map<AgentStateName, number>(AGENT_STATES.map((s, i) => [s, i]));

/** What the hub reports, reduced to what the wallboard shows (no phone number, no full name). */
export interface StateRecord {
  readonly agentId: string;
  readonly state: AgentStateName;
  readonly reason?: string;
  readonly since: number;
  readonly campaignId: string | null;
  readonly leadFirstName: string | null;
  /** When the change was published. */
  readonly at: number;
}

export const HISTORY_MS = 3_600_000;
/** Per agent, at most this many records are kept (a flapping device cannot eat the process). */
const MAX_RECORDS_PER_AGENT = 2_000;

const sameRecord = (a: StateRecord, b: StateRecord): boolean =>
  a.at === b.at &&
  a.since === b.since &&
  a.state === b.state &&
  a.campaignId === b.campaignId &&
  a.reason === b.reason &&
  a.leadFirstName === b.leadFirstName;

export class TenantFloor {
  /** agentId → its records, oldest first; the last one is the current state. */
  readonly #history = new Map<string, StateRecord[]>();
  #names = new Map<string, string>();
  /** The compact frames' tables (gateway/supervisor/protocol.ts AgentDelta): append-only. */
  readonly #ids: string[] = [];
  readonly #index = new Map<string, number>();
  readonly #campaignIds: string[] = [];
  readonly #campaignIndex = new Map<string, number>();
  /** Running sums of the finished visits of the last hour, for averages(). */
  readonly #sums = new SlidingSums();

  /** Agents of the tenant from the system of record: shown offline until seen. */
  setRoster(names: ReadonlyMap<string, string>): void {
    this.#names = new Map(names);
    for (const id of [...names.keys()].sort()) this.indexOf(id);
  }

  /** The agent's place in the ids table (given one the first time it is seen). */
  indexOf(agentId: string): number {
    let i = this.#index.get(agentId);
    if (i === undefined) {
      i = this.#ids.length;
      this.#ids.push(agentId);
      this.#index.set(agentId, i);
    }
    return i;
  }

  #campaignOf(campaignId: string | null): number {
    if (campaignId === null) return -1;
    let i = this.#campaignIndex.get(campaignId);
    if (i === undefined) {
      i = this.#campaignIds.length;
      this.#campaignIds.push(campaignId);
      this.#campaignIndex.set(campaignId, i);
    }
    return i;
  }

  /** The ids table: agent ids by index (a live view; callers slice). */
  get ids(): readonly string[] {
    return this.#ids;
  }

  get campaignIds(): readonly string[] {
    return this.#campaignIds;
  }

  /** The agent's current state as a delta tuple for a frame sent at `at`; null if never seen. */
  delta(agentId: string, at: number): AgentDelta | null {
    const r = this.current(agentId);
    if (!r) return null;
    const head = [
      this.indexOf(agentId),
      STATE_CODE.get(r.state) ?? 0,
      at - r.since,
      this.#campaignOf(r.campaignId),
    ] as const;
    if (r.reason !== undefined) return [...head, r.leadFirstName ?? 0, r.reason];
    if (r.leadFirstName !== null) return [...head, r.leadFirstName];
    return head;
  }

  nameOf(agentId: string): string {
    return this.#names.get(agentId) ?? agentId;
  }

  knows(agentId: string): boolean {
    return this.#names.has(agentId);
  }

  /**
   * Record a state. Returns true when it changed the agent's current state (a delta to send);
   * a record already known, or published before the current one, only fills the history.
   */
  apply(r: StateRecord): boolean {
    this.indexOf(r.agentId);
    const list = this.#history.get(r.agentId);
    if (!list) {
      this.#history.set(r.agentId, [r]);
      return true;
    }
    const last = list[list.length - 1]!;
    if (r.at >= last.at) {
      if (sameRecord(last, r)) return false;
      const unchanged =
        last.since === r.since &&
        last.state === r.state &&
        last.campaignId === r.campaignId &&
        last.reason === r.reason &&
        last.leadFirstName === r.leadFirstName;
      if (unchanged) return false;
      // The visit of `last` ends where r begins.
      this.#sums.close(r.agentId, last, r.at);
      list.push(r);
      if (list.length > MAX_RECORDS_PER_AGENT) {
        list.splice(0, list.length - MAX_RECORDS_PER_AGENT);
        this.#sums.dropBefore(r.agentId, list[0]!.at);
      }
      return true;
    }
    // Out of order: insert in place (history only), and the agent's visits are summed again.
    let i = list.length - 1;
    while (i > 0 && list[i - 1]!.at > r.at) i--;
    if (!list.some((x) => sameRecord(x, r))) {
      list.splice(i, 0, r);
      this.#sums.reset(r.agentId, list);
    }
    return false;
  }

  current(agentId: string): StateRecord | undefined {
    const list = this.#history.get(agentId);
    return list?.[list.length - 1];
  }

  tile(agentId: string, r: StateRecord | undefined = this.current(agentId)): AgentTile {
    if (!r) {
      return {
        agentId,
        name: this.nameOf(agentId),
        state: 'offline',
        since: null,
        campaignId: null,
        leadFirstName: null,
      };
    }
    return {
      agentId,
      name: this.nameOf(agentId),
      state: r.state,
      ...(r.reason === undefined ? {} : { reason: r.reason }),
      since: r.since,
      campaignId: r.campaignId,
      leadFirstName: r.leadFirstName,
    };
  }

  #agentIds(): string[] {
    const ids = new Set([...this.#names.keys(), ...this.#history.keys()]);
    return [...ids].sort();
  }

  /** Every agent now (roster agents never seen are offline). */
  tiles(campaignId: string | null): AgentTile[] {
    return this.#agentIds()
      .map((id) => this.tile(id))
      .filter((t) => campaignId === null || t.campaignId === campaignId);
  }

  /** The floor as it was at `at`: each agent's latest record that began at or before then. */
  tilesAt(at: number, campaignId: string | null): AgentTile[] {
    return this.#agentIds()
      .map((id) => {
        const list = this.#history.get(id) ?? [];
        let found: StateRecord | undefined;
        for (const r of list) {
          if (r.at <= at) found = r;
          else break;
        }
        return this.tile(id, found);
      })
      .filter((t) => campaignId === null || t.campaignId === campaignId);
  }

  /** The earliest moment the history can rebuild. */
  earliest(now: number): number {
    let min = now;
    for (const list of this.#history.values()) if (list[0]) min = Math.min(min, list[0].at);
    return Math.max(min, now - HISTORY_MS);
  }

  /** An agent's records, oldest first (a copy). */
  records(agentId: string): StateRecord[] {
    return [...(this.#history.get(agentId) ?? [])];
  }

  /** Every agent with a record. */
  agentsWithRecords(): string[] {
    return [...this.#history.keys()];
  }

  /** Drop records that ended more than an hour ago (the current one always stays). */
  trim(now: number): void {
    const horizon = now - HISTORY_MS;
    for (const list of this.#history.values()) {
      let drop = 0;
      while (drop < list.length - 1 && list[drop + 1]!.at <= horizon) drop++;
      if (drop > 0) list.splice(0, drop);
    }
  }

  /**
   * Average seconds per visit of waiting (ready, offered), talking (dialing, on call), wrap-up and
   * pause over the last hour, per agent and per campaign (a visit counts where it began; one that
   * began before the hour counts for its part inside it).
   *
   * Incremental: finished visits are summed as they end (SlidingSums) and leave the sums when
   * they slide out of the hour, so a counters tick costs one step per agent (its oldest visit, the
   * one the hour may cut, and its current one), not a rescan of the hour's records.
   */
  averages(now: number): { agents: Record<string, FloorAverages>; campaigns: Record<string, FloorAverages> } {
    const horizon = now - HISTORY_MS;
    this.#sums.slide(horizon);
    const agents: Record<string, FloorAverages> = {};
    const byCampaign = new Map<string, Acc>();
    for (const [id, acc] of this.#sums.campaigns()) byCampaign.set(id, copyAcc(acc));
    const campaignAcc = (id: string): Acc => {
      let c = byCampaign.get(id);
      if (!c) byCampaign.set(id, (c = newAcc()));
      return c;
    };
    for (const [agentId, list] of this.#history) {
      const acc = copyAcc(this.#sums.agent(agentId));
      // The oldest finished visit may have begun before the hour: only its part inside counts.
      const oldest = this.#sums.oldest(agentId);
      if (oldest && oldest.at < horizon) {
        acc[oldest.bucket].ms -= horizon - oldest.at;
        if (oldest.campaignId !== null)
          campaignAcc(oldest.campaignId)[oldest.bucket].ms -= horizon - oldest.at;
      }
      // The current visit, up to now.
      const cur = list[list.length - 1]!;
      const bucket = BUCKET[cur.state];
      if (bucket) {
        const ms = Math.max(0, now - Math.max(cur.at, horizon));
        add(acc, bucket, ms);
        if (cur.campaignId !== null) add(campaignAcc(cur.campaignId), bucket, ms);
      }
      agents[agentId] = finish(acc);
    }
    const campaigns: Record<string, FloorAverages> = {};
    for (const [id, acc] of byCampaign) if (visits(acc) > 0) campaigns[id] = finish(acc);
    return { agents, campaigns };
  }
}

interface Visit {
  readonly at: number;
  readonly end: number;
  readonly bucket: Bucket;
  readonly campaignId: string | null;
}

/**
 * The finished visits of each agent (oldest first) that end inside the hour, and their sums per
 * agent and per campaign, whole (the cut of a visit that began before the hour is taken off when
 * averages are read). Visits enter when they end and leave when the hour slides past their end.
 */
class SlidingSums {
  readonly #agents = new Map<string, { visits: Visit[]; head: number; acc: Acc }>();
  readonly #campaigns = new Map<string, Acc>();
  #horizon = -Infinity;

  #entry(agentId: string): { visits: Visit[]; head: number; acc: Acc } {
    let e = this.#agents.get(agentId);
    if (!e) this.#agents.set(agentId, (e = { visits: [], head: 0, acc: newAcc() }));
    return e;
  }

  #count(e: { acc: Acc }, v: Visit, sign: 1 | -1): void {
    e.acc[v.bucket].ms += sign * (v.end - v.at);
    e.acc[v.bucket].n += sign;
    if (v.campaignId === null) return;
    let c = this.#campaigns.get(v.campaignId);
    if (!c) this.#campaigns.set(v.campaignId, (c = newAcc()));
    c[v.bucket].ms += sign * (v.end - v.at);
    c[v.bucket].n += sign;
    if (sign < 0 && visits(c) === 0) this.#campaigns.delete(v.campaignId);
  }

  /** The visit of record `r` ended at `end`. */
  close(agentId: string, r: StateRecord, end: number): void {
    const bucket = BUCKET[r.state];
    if (!bucket || end <= this.#horizon) return;
    const v: Visit = { at: r.at, end, bucket, campaignId: r.campaignId };
    const e = this.#entry(agentId);
    e.visits.push(v);
    this.#count(e, v, 1);
  }

  /** Forget the agent's visits that began before `at` (its records before then were dropped). */
  dropBefore(agentId: string, at: number): void {
    const e = this.#agents.get(agentId);
    while (e && e.head < e.visits.length && e.visits[e.head]!.at < at)
      this.#count(e, e.visits[e.head++]!, -1);
  }

  /** Sum the agent's visits again from its records (one arrived out of order). */
  reset(agentId: string, records: readonly StateRecord[]): void {
    const e = this.#agents.get(agentId);
    if (e) {
      for (let i = e.head; i < e.visits.length; i++) this.#count(e, e.visits[i]!, -1);
      this.#agents.delete(agentId);
    }
    for (let i = 0; i + 1 < records.length; i++) this.close(agentId, records[i]!, records[i + 1]!.at);
  }

  /** The hour now begins at `horizon`: visits that ended at or before it leave the sums. */
  slide(horizon: number): void {
    this.#horizon = Math.max(this.#horizon, horizon);
    for (const e of this.#agents.values()) {
      while (e.head < e.visits.length && e.visits[e.head]!.end <= this.#horizon) {
        this.#count(e, e.visits[e.head++]!, -1);
      }
      if (e.head > 64 && e.head * 2 > e.visits.length) {
        e.visits.splice(0, e.head);
        e.head = 0;
      }
    }
  }

  agent(agentId: string): Acc {
    return this.#agents.get(agentId)?.acc ?? ZERO_ACC;
  }

  oldest(agentId: string): Visit | undefined {
    const e = this.#agents.get(agentId);
    return e?.visits[e.head];
  }

  campaigns(): IterableIterator<[string, Acc]> {
    return this.#campaigns.entries();
  }
}

type Bucket = 'wait' | 'talk' | 'wrap' | 'pause';
type Acc = Record<Bucket, { ms: number; n: number }>;
const BUCKET: Readonly<Record<AgentStateName, Bucket | null>> = {
  ready: 'wait',
  offered: 'wait',
  dialing: 'talk',
  on_call: 'talk',
  wrap_up: 'wrap',
  paused: 'pause',
  offline: null,
};
const ZERO_ACC: Acc = Object.freeze({
  wait: { ms: 0, n: 0 },
  talk: { ms: 0, n: 0 },
  wrap: { ms: 0, n: 0 },
  pause: { ms: 0, n: 0 },
});
const copyAcc = (a: Acc): Acc => ({
  wait: { ...a.wait },
  talk: { ...a.talk },
  wrap: { ...a.wrap },
  pause: { ...a.pause },
});
const visits = (a: Acc): number => a.wait.n + a.talk.n + a.wrap.n + a.pause.n;
const newAcc = (): Acc => ({
  wait: { ms: 0, n: 0 },
  talk: { ms: 0, n: 0 },
  wrap: { ms: 0, n: 0 },
  pause: { ms: 0, n: 0 },
});
function add(acc: Acc, b: Bucket, ms: number): void {
  acc[b].ms += ms;
  acc[b].n += 1;
}
const avg = (x: { ms: number; n: number }): number => (x.n === 0 ? 0 : Math.round(x.ms / x.n / 1000));
const finish = (acc: Acc): FloorAverages => ({
  waitSec: avg(acc.wait),
  talkSec: avg(acc.talk),
  wrapSec: avg(acc.wrap),
  pauseSec: avg(acc.pause),
});
