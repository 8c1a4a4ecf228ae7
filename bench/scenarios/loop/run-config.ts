// What a loop result says about the run that produced it (the JSON `config` block): sizes,
// timings, what each system's call is, how CPU and latency were measured, the gateway's settings,
// the baselines' versions and settings, and which code was measured.
import { createRequire } from 'node:module';
import { loadConfig } from '../../../gateway/config.js';
import { STANDARD_LEAD } from '../engine/leads.js';
import type { CodeVersion } from './code-version.js';
import type { LoopPlan } from './plan.js';
import { GATEWAY_CONFIG } from './rig.js';

export interface RunFacts {
  readonly quick: boolean;
  readonly redisUrl: string;
  readonly postgresUrl: string;
  readonly plan: LoopPlan;
  readonly agents: number;
  readonly workers: number;
  readonly ratePerS: number;
  readonly setup: Readonly<Record<string, number>>;
  readonly readyEvent: boolean;
  readonly code: CodeVersion;
  readonly postgresStats: { readonly analyze_after_fill: boolean; readonly server_autovacuum: string };
}

const packageVersion = (name: string): string =>
  (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

/** host:port only, so a URL with credentials never lands in a committed file. */
function endpoint(url: string, port: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || port}`;
}

export function describeRun(input: RunFacts): Record<string, unknown> {
  const { plan } = input;
  const gateway = loadConfig(GATEWAY_CONFIG);
  return {
    quick: input.quick,
    code: input.code,
    redis: endpoint(input.redisUrl, '6379'),
    postgres: endpoint(input.postgresUrl, '5432'),
    postgres_statistics: {
      ...input.postgresStats,
      why: "ANALYZE of dialhub's tables after each load of leads stands in for autovacuum, which is off on the shared server; without it the planner uses leads_queue_idx for the outcome insert's join to leads and every completion walks all finished leads of the campaign (--no-analyze)",
    },
    agents: input.agents,
    agent_workers: input.workers,
    transport: 'socket.io-client websocket, one connection per agent per system, in agent worker processes',
    servers: 'each system in its own child process; the orchestrator only coordinates and reads counters',
    rounds: plan.rounds,
    order:
      'per round: closed loop for the three systems, then open loop for dialhub and the BullMQ dialer; the order rotates every round',
    max_other_cores: plan.maxOtherCores,
    retries_per_phase: plan.retriesPerPhase,
    retry_budget: plan.retryBudget,
    warmup_ms_per_system: plan.warmupMs,
    closed_loop: {
      warmup_ms: plan.closed.warmupMs,
      measure_ms: plan.closed.measureMs,
      definition: 'every agent starts its next cycle when the last one ends',
    },
    open_loop: {
      warmup_ms: plan.open.warmupMs,
      measure_ms: plan.open.measureMs,
      rate_per_s: input.ratePerS,
      schedule:
        'evenly spaced slots, one per 1/rate s across all agents (each agent every agents/rate s); latency from the slot, a late start still counts from it',
    },
    calls: {
      dialhub: input.readyEvent
        ? 'agent:ready -> call:offer acked {accept:true} -> call:complete {answered} -> ack (outcome committed in Postgres) -> agent:ready again (--ready-event: three round trips a call)'
        : 'closed loop: call:offer acked {accept:true} -> call:complete {answered, ready: true} -> ack (outcome committed in Postgres, agent ready again) -> next offer (two round trips a call); open loop: agent:ready at the scheduled instant -> offer -> call:complete {answered} -> ack, then idle until the next slot',
      socketio: "emitWithAck('ping') -> ack from the server at once -> next emit",
      bullmq:
        'ready -> processor takes the idle agent -> emitWithAck(offer, job.data) -> ack carries the outcome -> INSERT (one per call) -> job completes; the device is ready again right after its ack',
    },
    latency:
      'ready -> offer: scheduled ready instant to call:offer (dialhub) / offer (BullMQ) received on the device, HDR histograms per worker merged in the orchestrator; metrics are medians of the per-round percentiles',
    cpu_ms_per_1k_calls:
      'closed loop: CPU of the server process + Redis (INFO used_cpu_user+sys delta) + the Postgres backends of its pool (/proc/<pid>/stat via pg_stat_activity application_name), per 1,000 calls; Postgres WAL writer/checkpointer/autovacuum and the clients are not included',
    initial_depth: plan.initialDepth,
    fill_batch: plan.fillBatch,
    depth_headroom: plan.depthHeadroom,
    lead: STANDARD_LEAD,
    gateway: {
      config_overrides: GATEWAY_CONFIG,
      config: {
        DISPATCH_BATCH: gateway.DISPATCH_BATCH,
        OFFER_TTL_MS: gateway.OFFER_TTL_MS,
        OFFER_ACK_TIMEOUT_MS: gateway.OFFER_ACK_TIMEOUT_MS,
        CALL_TTL_MS: gateway.CALL_TTL_MS,
        LEASE_HEARTBEAT_MS: gateway.LEASE_HEARTBEAT_MS,
        RECLAIM_INTERVAL_MS: gateway.RECLAIM_INTERVAL_MS,
        AGENT_EVENT_RATE: gateway.AGENT_EVENT_RATE,
      },
      store: 'createRedisQueueStore (own key prefix), ServerClock on Redis TIME, as gateway/main.ts',
      database: 'createDatabase on a private schema, migrated; outcome writer defaults',
      socket_io_adapter:
        'none: one gateway process (main.ts adds the Redis streams adapter, used only to find sessions on other processes)',
      campaign: 'one campaign, window ALWAYS_OPEN, default dispositions; outcome answered (final)',
    },
    bullmq: {
      version: packageVersion('bullmq'),
      worker_concurrency: input.agents,
      workers: 1,
      job_opts: { removeOnComplete: true, removeOnFail: true },
      redis_client: `redis (node-redis) ${packageVersion('redis')}`,
      postgres: `pg ${packageVersion('pg')} Pool max ${plan.bullmqPoolMax}; INSERT INTO call_outcomes (...) per call, autocommit; job_id UNIQUE`,
      idle_agents: 'FIFO (longest idle first); a processor with no idle agent waits for the next ready',
    },
    socket_io: `socket.io ${packageVersion('socket.io')}, socket.io-client ${packageVersion('socket.io-client')}`,
    setup_ms: input.setup,
  };
}
