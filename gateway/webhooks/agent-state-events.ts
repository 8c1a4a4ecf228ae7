// agent.state_changed webhooks. Agent states live in the gateway (the state machine behind
// agent-hub.ts), not in a table a trigger could watch, so this module takes the hub's state feed
// and writes the events into the same Postgres outbox the triggers fill (webhook_emit); the
// delivery worker then delivers them at least once like any other event.
//
// States change often (several times per call, per agent), so the cost is kept with the tenants
// that listen:
//  - each gateway remembers, per tenant, whether an active endpoint takes agent.state_changed
//    (asked once per `cacheMs`, for all the tenants of a flush in one query); a change of a
//    tenant known not to listen is dropped at once, with no I/O;
//  - the changes of the tenants that listen (or are not known yet) are buffered and written every
//    `flushMs` in one statement (group commit), not one insert per change.
// An endpoint created or changed through this gateway is seen at once (`invalidate`); one created
// through another gateway is seen within `cacheMs`. A change is durable once its flush commits
// (within `flushMs`): a gateway that dies before that loses the events of that moment, as it
// loses the live states themselves. A failed flush keeps its events for the next one, up to
// `maxBuffered` (the oldest are dropped beyond that, and logged).
import type { Clock } from '../../engine/clock.js';
import type { NewWebhookEvent, WebhookRepository } from '../../db/privacy/index.js';
import type { AgentStateChange } from '../agent/agent-hub.js';
import type { Logger } from '../logger.js';

export const AGENT_STATE_EVENT = 'agent.state_changed';

export interface AgentStateEventsOptions {
  /** Longest a change waits before it is written. Default 200 ms. */
  readonly flushMs?: number;
  /** How long a tenant's "listens or not" answer is trusted. Default 5 s. */
  readonly cacheMs?: number;
  /** Changes kept while Postgres is unreachable. Default 10,000. */
  readonly maxBuffered?: number;
}

export interface AgentStateEvents {
  /** Take one state change (from AgentHub.onStateChange). Never throws, never waits. */
  record(change: AgentStateChange): void;
  /** Forget what is known of the tenant (its endpoints changed). */
  invalidate(tenantId: string): void;
  /** Write what is buffered now. Returns how many events were handed to the outbox. */
  flush(): Promise<number>;
  /** Counters since start, for tests and the measurement in the report. */
  readonly stats: { recorded: number; skipped: number; written: number; statements: number };
  /** Write what is left, then stop. */
  stop(): Promise<void>;
}

/** The event's data: ids, the state and its times; never the lead's name. */
export function agentStatePayload(change: AgentStateChange): Record<string, unknown> {
  const s = change.state;
  return {
    agentId: change.agentId,
    deviceId: change.deviceId,
    state: s.state,
    since: new Date(s.since).toISOString(),
    campaignId: s.campaignId ?? null,
    reason: s.state === 'paused' ? s.reason : null,
    leadId: change.lead?.id ?? null,
    at: new Date(change.at).toISOString(),
  };
}

export function createAgentStateEvents(
  repo: Pick<WebhookRepository, 'listening' | 'emit'>,
  clock: Clock,
  logger: Logger,
  options: AgentStateEventsOptions = {},
): AgentStateEvents {
  const flushMs = options.flushMs ?? 200;
  const cacheMs = options.cacheMs ?? 5_000;
  const maxBuffered = options.maxBuffered ?? 10_000;
  const known = new Map<string, { listens: boolean; until: number }>();
  let buffer: NewWebhookEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<number> = Promise.resolve(0);
  let stopped = false;
  const stats = { recorded: 0, skipped: 0, written: 0, statements: 0 };

  function schedule(): void {
    if (timer !== undefined || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, flushMs);
    timer.unref();
  }

  async function write(batch: NewWebhookEvent[]): Promise<number> {
    const now = clock.now();
    const stale = [...new Set(batch.map((e) => e.tenantId))].filter((t) => (known.get(t)?.until ?? 0) <= now);
    if (stale.length > 0) {
      const listening = await repo.listening(AGENT_STATE_EVENT, stale);
      stats.statements++;
      for (const t of stale) known.set(t, { listens: listening.has(t), until: now + cacheMs });
    }
    const kept = batch.filter((e) => known.get(e.tenantId)?.listens === true);
    stats.skipped += batch.length - kept.length;
    if (kept.length > 0) {
      await repo.emit(kept);
      stats.statements++;
      stats.written += kept.length;
    }
    return kept.length;
  }

  function flush(): Promise<number> {
    // One flush at a time, in order: a state change never overtakes an earlier one of its agent.
    flushing = flushing.then(async () => {
      if (buffer.length === 0) return 0;
      const batch = buffer;
      buffer = [];
      try {
        return await write(batch);
      } catch (err) {
        buffer = [...batch, ...buffer];
        const dropped = buffer.length - maxBuffered;
        if (dropped > 0) {
          buffer = buffer.slice(dropped);
          logger.warn({ dropped }, 'webhook.agent_state_dropped');
        }
        logger.error({ err, buffered: buffer.length }, 'webhook.agent_state_flush_failed');
        schedule();
        return 0;
      }
    });
    return flushing;
  }

  return {
    stats,
    record(change) {
      if (stopped) return;
      stats.recorded++;
      const k = known.get(change.tenantId);
      if (k && !k.listens && k.until > clock.now()) {
        stats.skipped++;
        return;
      }
      buffer.push({ tenantId: change.tenantId, type: AGENT_STATE_EVENT, payload: agentStatePayload(change) });
      schedule();
    },
    invalidate(tenantId) {
      known.delete(tenantId);
    },
    flush,
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await flush();
      stopped = true;
    },
  };
}
