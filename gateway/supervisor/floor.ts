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
import type { AgentTile, FloorAverages } from './protocol.js';

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

  /** Agents of the tenant from the system of record: shown offline until seen. */
  setRoster(names: ReadonlyMap<string, string>): void {
    this.#names = new Map(names);
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
      list.push(r);
      if (list.length > MAX_RECORDS_PER_AGENT) list.splice(0, list.length - MAX_RECORDS_PER_AGENT);
      return true;
    }
    // Out of order: insert in place (history only).
    let i = list.length - 1;
    while (i > 0 && list[i - 1]!.at > r.at) i--;
    if (!list.some((x) => sameRecord(x, r))) list.splice(i, 0, r);
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
   * pause over the last hour, per agent and per campaign (a visit counts where it began).
   */
  averages(now: number): { agents: Record<string, FloorAverages>; campaigns: Record<string, FloorAverages> } {
    const horizon = now - HISTORY_MS;
    const agents: Record<string, FloorAverages> = {};
    const byCampaign = new Map<string, Acc>();
    for (const [agentId, list] of this.#history) {
      const acc = newAcc();
      for (let i = 0; i < list.length; i++) {
        const r = list[i]!;
        const end = list[i + 1]?.at ?? now;
        const ms = Math.max(0, end - Math.max(r.at, horizon));
        if (end <= horizon) continue;
        const bucket = BUCKET[r.state];
        if (!bucket) continue;
        add(acc, bucket, ms);
        if (r.campaignId !== null) {
          const c = byCampaign.get(r.campaignId) ?? newAcc();
          add(c, bucket, ms);
          byCampaign.set(r.campaignId, c);
        }
      }
      agents[agentId] = finish(acc);
    }
    const campaigns: Record<string, FloorAverages> = {};
    for (const [id, acc] of byCampaign) campaigns[id] = finish(acc);
    return { agents, campaigns };
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
