// The processes of one loop run and their lifecycle: the three servers under test (each in its own
// child process), the agent workers (children too), the Postgres schemas, and the connections the
// orchestrator keeps for its readings. Everything started is registered for teardown, which runs
// in reverse order (workers' sockets first, then servers, then the schemas) whether the run ends
// normally, fails, or is interrupted, and kills any child that does not exit in time.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { connectAdmin } from '../../lib/redis-admin.js';
import type { AdminClient } from '../../lib/redis-admin.js';
import type { ScenarioContext } from '../../lib/scenario.js';
import type { AgentCredential, QueueServerApi, ServerApi, SystemName, WorkerApi } from './api.js';
import type { BullmqDialerArgs } from './bullmq-dialer.js';
import { ChildHandle } from './ipc.js';
import type { ChildApi } from './ipc.js';
import type { PostgresWatch, Processes } from './meter.js';
import type { LoopPlan } from './plan.js';
import { CAMPAIGN, createSchemas, dialhubServerArgs, seedDialhub } from './seed.js';
import type { SeededPostgres } from './seed.js';

export interface RigOptions {
  readonly plan: LoopPlan;
  readonly agents: number;
  readonly workers: number;
  readonly postgresUrl: string;
  /** ANALYZE dialhub's tables after each load of leads (see fill). */
  readonly analyze: boolean;
}

/**
 * What differs from gateway/config.ts defaults in the gateway under test (recorded in the JSON).
 * AGENT_EVENT_RATE: the per-device limit (50 events/s) is a safety valve far above any person's
 * pace, but a closed-loop simulated agent legitimately exceeds it when few agents drive a fast
 * system; left at 50, the bench would measure the limiter's cap (agents x 50 / events per call),
 * not the gateway. Raised to its maximum it never refuses, and still runs on every event, so its
 * cost stays in the numbers.
 */
export const GATEWAY_CONFIG = { LOG_LEVEL: 'silent', AGENT_EVENT_RATE: '100000' } as const;

export interface Rig extends Processes {
  readonly dialhub: ChildHandle<QueueServerApi>;
  readonly bullmq: ChildHandle<QueueServerApi>;
  readonly admin: AdminClient;
  readonly watch: PostgresWatch;
  readonly postgres: SeededPostgres;
  readonly urls: Readonly<Record<SystemName, string>>;
  readonly bullmqConfig: Omit<BullmqDialerArgs, 'redisUrl' | 'prefix' | 'postgresUrl'>;
  /** Next lead / job number per queue, so top-ups never repeat a phone number. */
  readonly filled: Record<'dialhub' | 'bullmq', number>;
  readonly analyze: boolean;
  /** The Postgres server's autovacuum setting ('on' / 'off'), recorded with the result. */
  readonly autovacuum: string;
}

type Teardown = () => Promise<unknown>;

const entry = (file: string) => new URL(`./${file}`, import.meta.url);

export class Teardowns {
  readonly #steps: { name: string; run: Teardown }[] = [];

  add(name: string, run: Teardown): void {
    this.#steps.push({ name, run });
  }

  /** Last added first; a failing step is logged and the rest still run. */
  async run(log: (m: string) => void): Promise<void> {
    for (const step of this.#steps.splice(0).reverse()) {
      const started = process.hrtime.bigint();
      try {
        await step.run();
        log(`closed ${step.name} (${msSince(started)} ms)`);
      } catch (err) {
        log(`cleanup of ${step.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

async function forkChild<A extends ChildApi<A>>(
  teardowns: Teardowns,
  name: string,
  file: string,
  args: unknown,
): Promise<ChildHandle<A>> {
  const handle = await ChildHandle.fork<A>(name, entry(file), args);
  teardowns.add(name, () => handle.close());
  return handle;
}

/** Agents dealt round-robin: worker w gets agents w, w + W, w + 2W, ... */
function dealAgents<T>(items: readonly T[], workers: number): T[][] {
  return Array.from({ length: workers }, (_, w) => items.filter((_, i) => i % workers === w));
}

export async function buildRig(
  ctx: ScenarioContext,
  o: RigOptions,
  teardowns: Teardowns,
): Promise<{ rig: Rig; credentials: AgentCredential[] }> {
  const admin = await connectAdmin(ctx.redisUrl);
  teardowns.add('redis admin client', () => admin.close());

  const postgres = await createSchemas(o.postgresUrl, ctx.runId);
  teardowns.add('postgres schemas', () => postgres.drop());
  const secret = randomBytes(24).toString('hex');
  let started = process.hrtime.bigint();
  const credentials = await seedDialhub(postgres.dialhub, o.agents, secret);
  ctx.log(`seeded ${o.agents} agents and devices in ${postgres.dialhub.schema} (${msSince(started)} ms)`);

  const client = new pg.Client({ connectionString: o.postgresUrl });
  await client.connect();
  teardowns.add('postgres watch client', () => client.end());
  const watch: PostgresWatch = {
    client,
    apps: { dialhub: postgres.dialhub.applicationName, bullmq: postgres.bullmq.applicationName },
  };

  const dialhubArgs = dialhubServerArgs(ctx, postgres.dialhub, secret, GATEWAY_CONFIG);
  const bullmqConfig = {
    queueName: 'calls',
    poolMax: o.plan.bullmqPoolMax,
    concurrency: o.agents,
    offerTimeoutMs: o.plan.bullmqOfferTimeoutMs,
  };
  const bullmqArgs: BullmqDialerArgs = {
    ...bullmqConfig,
    redisUrl: ctx.redisUrl,
    prefix: `${ctx.keyPrefix}bull`,
    postgresUrl: postgres.bullmq.url,
  };
  started = process.hrtime.bigint();
  const [dialhub, socketio, bullmq] = await Promise.all([
    forkChild<QueueServerApi>(teardowns, 'dialhub gateway', 'dialhub-server.ts', dialhubArgs),
    forkChild<ServerApi>(teardowns, 'socket.io server', 'socketio-server.ts', {}),
    forkChild<QueueServerApi>(teardowns, 'bullmq dialer', 'bullmq-dialer.ts', bullmqArgs),
  ]);
  const ports = {
    dialhub: (await dialhub.call('start')).port,
    socketio: (await socketio.call('start')).port,
    bullmq: (await bullmq.call('start')).port,
  };
  ctx.log(
    `servers up (${msSince(started)} ms): pids gateway ${dialhub.pid}, socket.io ${socketio.pid}, ` +
      `bullmq dialer ${bullmq.pid}`,
  );

  const workers = await Promise.all(
    Array.from({ length: o.workers }, (_, w) =>
      forkChild<WorkerApi>(teardowns, `agent worker ${w}`, 'agent-worker.ts', {}),
    ),
  );
  const url = (port: number, nsp = '') => `http://127.0.0.1:${port}${nsp}`;
  const rig: Rig = {
    workers,
    servers: { dialhub, socketio, bullmq },
    dialhub,
    bullmq,
    admin,
    watch,
    postgres,
    urls: { dialhub: url(ports.dialhub, '/agent'), socketio: url(ports.socketio), bullmq: url(ports.bullmq) },
    bullmqConfig,
    filled: { dialhub: 0, bullmq: 0 },
    analyze: o.analyze,
    autovacuum:
      (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum ?? 'unknown',
  };
  return { rig, credentials };
}

export function msSince(start: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - start) / 1e6);
}

/** Queue `count` more leads (dialhub) or jobs (BullMQ), numbered on from the last fill. */
/**
 * Queue `count` more leads (dialhub) or jobs (BullMQ), numbered on from the last fill.
 *
 * After loading leads, dialhub's tables are analyzed, as autovacuum would do after a bulk import
 * on a default server. The shared server here runs with autovacuum off, and without statistics
 * the planner joins call_attempts' insert to leads through leads_queue_idx (tenant, campaign,
 * status, id) instead of the primary key: each completion then walks every finished lead of the
 * campaign, and the gateway slows down with every call made (--no-analyze shows it).
 */
export async function fill(rig: Rig, system: 'dialhub' | 'bullmq', count: number, batch: number) {
  const from = rig.filled[system];
  const r = await rig[system].call('fill', { from, count, batch });
  rig.filled[system] += count;
  if (system === 'dialhub' && rig.analyze) {
    const { schema } = rig.postgres.dialhub;
    await rig.watch.client.query(`ANALYZE ${schema}.leads, ${schema}.call_attempts, ${schema}.callbacks`);
  }
  return r;
}

/** Connect every agent of `system`, each worker its share. */
export async function connectAgents(
  rig: Rig,
  system: SystemName,
  credentials: readonly AgentCredential[],
  concurrency: number,
  chainReady: boolean,
): Promise<number> {
  const shares = dealAgents(credentials, rig.workers.length);
  const results = await Promise.all(
    rig.workers.map((w, i) =>
      w.call('connect', {
        system,
        url: rig.urls[system],
        campaignId: CAMPAIGN,
        agents: shares[i]!,
        concurrency,
        chainReady,
      }),
    ),
  );
  return results.reduce((acc, r) => acc + r.connected, 0);
}
