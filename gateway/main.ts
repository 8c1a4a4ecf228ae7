// The entry point (`npm start`): reads the environment (the only place that does), builds the
// queue store, Postgres, secrets and the demo data, starts one gateway and stops it cleanly on
// SIGTERM/SIGINT. With neither REDIS_URL nor DATABASE_URL it runs with zero setup: the in-memory
// queue store and embedded Postgres in DATA_DIR; the code above those two ports is the same.
import { resolve } from 'node:path';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient, DisconnectsClientError } from '@redis/client';
import type { Clock } from '../engine/clock.js';
import { ServerClock, systemClock } from '../engine/clock.js';
import { MemoryQueueStore } from '../engine/memory/memory-queue-store.js';
import type { QueueStore } from '../engine/queue-store.js';
import { createClusterClient } from '../engine/redis/cluster-failover.js';
import { createRedisQueueStore } from '../engine/redis/redis-queue-store.js';
import { createDatabase, startEmbeddedPostgres } from '../db/index.js';
import type { Database } from '../db/index.js';
import { createDeviceTokens, sessionLiveness } from './auth/device-token.js';
import { leaseIdsFrom } from './auth/lease-ids.js';
import type { LeaseIds } from '../engine/lease.js';
import { ConfigError, loadConfig } from './config.js';
import type { Config } from './config.js';
import { demoPasswordFrom, seedDemo, shouldSeedDemo } from './demo-seed.js';
import type { DemoSeed } from './demo-seed.js';
import { createGateway } from './gateway.js';
import type { Gateway, GatewayDeps, HealthCheck } from './gateway.js';
import { createHttpApp } from './http/app.js';
import { adapterStreamName } from './privacy/stream-sweep.js';
import { supervisorWithLogins } from './supervisor/index.js';
import { guardAdapterClient } from './connection-recovery.js';
import { createLogger } from './logger.js';
import type { Logger } from './logger.js';
import { loadSecrets } from './secrets.js';
import type { Secrets } from './secrets.js';

/**
 * However the drain goes, the process is gone this long after the signal (or a second after
 * SHUTDOWN_TIMEOUT_MS, when that is configured longer).
 */
const HARD_STOP_MS = 10_000;

/** Socket errors of a store connection (see the unhandledRejection handler). */
const CONNECTION_ERRORS = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

/** How long to wait for Redis at start before giving up (node-redis would retry forever, silently). */
const REDIS_CONNECT_TIMEOUT_MS = 20_000;

/** host:port of a URL, for messages: never the credentials it may carry. */
const where = (url: string): string => new URL(url).host;

async function within<T>(work: Promise<T>, ms: number, failure: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(failure)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface Resource {
  readonly name: string;
  close(): Promise<unknown> | void;
}

function readConfig(): Config {
  try {
    // eslint-disable-next-line no-restricted-syntax -- the entry point is the one reader of the environment
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`dialhub: invalid configuration\n  ${err.problems.join('\n  ')}\n`);
      process.exit(1);
    }
    throw err;
  }
}

interface Queue {
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly adapter?: GatewayDeps['adapter'];
  /** The Redis client shared state (login rate limits) can use; absent in memory mode. */
  readonly redis?: { readonly client: unknown; readonly keyPrefix: string };
  readonly label: string;
}

async function openQueue(
  config: Config,
  leaseIds: LeaseIds,
  resources: Resource[],
  checks: HealthCheck[],
  logger: Logger,
): Promise<Queue> {
  if (config.REDIS_URL === undefined && config.REDIS_CLUSTER_NODES === undefined) {
    const store = new MemoryQueueStore({ leaseIds });
    resources.push({ name: 'queue store', close: () => store.close() });
    return { store, clock: systemClock, label: 'in memory (one process)' };
  }
  const nodes = config.REDIS_CLUSTER_NODES;
  const url = config.REDIS_URL ?? nodes![0]!;
  const prefix = config.REDIS_KEY_PREFIX;
  const target = nodes ? `the Redis Cluster at ${nodes.map(where).join(', ')}` : `Redis at ${where(url)}`;
  const unreachable = `${target} did not answer within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s`;
  const store = await within(
    createRedisQueueStore({ ...(nodes ? { clusterNodes: nodes } : { url }), keyPrefix: prefix, leaseIds }),
    REDIS_CONNECT_TIMEOUT_MS,
    unreachable,
  );
  resources.push({ name: 'queue store', close: () => store.close() });
  checks.push({ name: 'redis', check: () => store.client.ping() });

  // Lease expiry and due times follow Redis's clock, so gateways on skewed hosts agree.
  const clock = new ServerClock(() => store.serverTime());
  await clock.start();
  resources.push({ name: 'server clock', close: () => clock.stop() });

  // The Socket.IO adapter gets a client of its own: it duplicates it for blocking stream reads
  // and subscriptions, which must not queue behind the store's commands. On a cluster it is a
  // cluster client too (the adapter reads its stream from the node that owns it), and like the
  // store's it follows a failed master to its replica (engine/redis/cluster-failover.ts).
  const adapterClient = nodes ? createClusterClient(nodes) : createClient({ url });
  adapterClient.on('error', () => undefined); // reconnects on its own; readiness reports Redis
  await within(
    (adapterClient.connect as () => Promise<unknown>).call(adapterClient),
    REDIS_CONNECT_TIMEOUT_MS,
    unreachable,
  );
  resources.push({
    name: 'adapter client',
    close: async () => {
      if (adapterClient.isOpen) await adapterClient.close();
    },
  });
  guardAdapterClient(adapterClient, (err) => logger.warn({ err }, 'adapter.write_failed'));
  const adapter = createAdapter(adapterClient, {
    streamName: adapterStreamName(prefix),
    channelPrefix: `${prefix}socket.io`,
    sessionKeyPrefix: `${prefix}sio:session:`,
  });
  return {
    store,
    clock,
    adapter,
    redis: { client: store.client, keyPrefix: prefix },
    label: `${nodes ? `Redis Cluster (${nodes.length} seed nodes)` : 'Redis'} (key prefix ${prefix})`,
  };
}

interface Db {
  readonly db: Database;
  readonly label: string;
}

async function openDatabase(config: Config, resources: Resource[], checks: HealthCheck[]): Promise<Db> {
  let db: Database;
  let label: string;
  if (config.DATABASE_URL !== undefined) {
    db = createDatabase({ url: config.DATABASE_URL });
    label = 'Postgres (DATABASE_URL)';
  } else {
    const dataDir = resolve(config.DATA_DIR, 'pg');
    const pg = await startEmbeddedPostgres({ dataDir });
    resources.push({ name: 'embedded postgres', close: () => pg.close() });
    // PGlite runs one query at a time behind a small socket server: keep the pool small.
    db = createDatabase({ url: pg.url, pool: { max: 4 } });
    label = `embedded Postgres in ${dataDir}`;
  }
  resources.push({ name: 'database', close: () => db.close() });
  await db.migrate();
  checks.push({ name: 'postgres', check: () => db.knex.raw('select 1') });
  return { db, label };
}

function publicUrl(config: Config, port: number): string {
  if (config.PUBLIC_URL) return config.PUBLIC_URL.replace(/\/$/, '');
  const host = ['0.0.0.0', '::', ''].includes(config.HOST) ? 'localhost' : config.HOST;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The friendly block on stdout (not the logger: it carries credentials on purpose). */
function banner(
  url: string,
  secrets: Secrets,
  queue: string,
  database: string,
  demo: DemoSeed | null,
): string {
  const admin =
    secrets.sources.adminToken === 'env'
      ? 'the ADMIN_TOKEN you set'
      : `"adminToken" in ${secrets.file} (send it as Authorization: Bearer <token>)`;
  const lines = [
    '',
    `  dialhub is running at ${url}`,
    '',
    `  Operator token (creates tenants and their first owner at ${url}/api/v1): ${admin}`,
    `  Queue:    ${queue}`,
    `  Database: ${database}`,
  ];
  if (demo && demo.logins.length > 0) {
    lines.push(
      '',
      `  Demo logins: POST ${url}/api/v1/auth/login { tenantId: "${demo.tenantId}", email, password }`,
      ...demo.logins.map((l) => `    ${l.role}: email=${l.email} password=${l.password}`),
    );
  }
  if (demo && demo.devices.length > 0) {
    lines.push(
      '',
      `  Demo devices: connect to ${url}/agent with { token, deviceId }, then agent:ready { campaignId: "${demo.campaignId}" }`,
      ...demo.devices.map(
        (d) => `    tenant=${demo.tenantId} agent=${d.agentId} device=${d.deviceId} token=${d.token}`,
      ),
    );
  }
  lines.push('', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger: Logger = createLogger(config.LOG_LEVEL);
  const resources: Resource[] = [];
  const checks: HealthCheck[] = [];
  let gateway: Gateway | undefined;
  let listening = false;
  let stopping = false;

  async function closeResources(): Promise<void> {
    // Last opened first: the database before the embedded Postgres under it.
    for (const r of resources.splice(0).reverse()) {
      try {
        await r.close();
      } catch (err) {
        logger.error({ err, resource: r.name }, 'shutdown.close_failed');
      }
    }
  }

  const startup = (async () => {
    const secrets = await loadSecrets(config);
    const queue = await openQueue(config, leaseIdsFrom(secrets.deviceTokenSecret), resources, checks, logger);
    const { db, label: database } = await openDatabase(config, resources, checks);
    // Device tokens of a login session are refused as soon as the session ends.
    const tokens = createDeviceTokens(secrets.deviceTokenSecret, {
      isSessionLive: sessionLiveness(db.sessions),
    });
    const demo = (await shouldSeedDemo(config, db))
      ? await seedDemo({ db, tokens, logger, demoPassword: demoPasswordFrom(secrets.deviceTokenSecret) })
      : null;
    gateway = createGateway({
      config,
      store: queue.store,
      clock: queue.clock,
      db,
      logger,
      tokens,
      checks,
      ...(queue.adapter ? { adapter: queue.adapter } : {}),
      supervisor: supervisorWithLogins(secrets.deviceTokenSecret),
      http: (g) =>
        createHttpApp(g, {
          adminToken: secrets.adminToken,
          logger,
          tokens,
          serverSecret: secrets.deviceTokenSecret,
          ...(queue.redis ? { redis: queue.redis } : {}),
        }),
    });
    const address = await gateway.start(config.PORT, config.HOST);
    listening = true;
    if (!stopping) {
      process.stdout.write(banner(publicUrl(config, address.port), secrets, queue.label, database, demo));
    }
  })();

  function shutdown(signal: NodeJS.Signals): void {
    if (stopping) {
      if (signal === 'SIGINT') process.exit(1); // a second Ctrl-C: stop waiting
      return;
    }
    stopping = true;
    logger.info({ signal }, 'shutdown.begin');
    const hardStopMs = Math.max(HARD_STOP_MS, config.SHUTDOWN_TIMEOUT_MS + 1_000);
    setTimeout(() => {
      logger.error({ afterMs: hardStopMs }, 'shutdown.overran');
      process.exit(1);
    }, hardStopMs).unref();
    (async () => {
      await startup.catch(() => undefined); // a start in progress finishes (or fails) first
      if (gateway && listening) await gateway.stop(); // drains within SHUTDOWN_TIMEOUT_MS
      await closeResources();
    })().then(
      () => {
        logger.info('shutdown.done');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown.failed');
        process.exit(1);
      },
    );
  }
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  // A connection error that reaches a promise nobody awaits (a Redis or Postgres client's socket
  // reset while it restarts) must not take the whole floor down: every call's state lives in
  // Redis and Postgres, and the clients reconnect on their own. It is logged as an error, with
  // its stack, so the careless caller can be found; anything else still ends the process.
  process.on('unhandledRejection', (reason: unknown) => {
    const code = (reason as { code?: unknown } | null)?.code;
    // A cluster client following a failover (engine/redis/cluster-failover.ts) drops the dead master's client,
    // failing what was queued on it (DisconnectsClientError): a connection error too.
    if (
      (typeof code === 'string' && CONNECTION_ERRORS.has(code)) ||
      reason instanceof DisconnectsClientError
    ) {
      logger.error({ err: reason }, 'process.unhandled_connection_error');
      return;
    }
    logger.fatal({ err: reason }, 'process.unhandled_rejection');
    process.exit(1);
  });

  try {
    await startup;
  } catch (err) {
    if (stopping) return; // the signal handler owns the exit
    stopping = true;
    logger.fatal({ err }, 'startup.failed');
    // A half-open resource (a client still reconnecting) must not keep a failed start alive.
    await within(closeResources(), 5_000, 'close timed out').catch(() => undefined);
    process.exit(1);
  }
}

await main();
