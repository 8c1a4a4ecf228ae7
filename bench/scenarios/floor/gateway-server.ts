// The floor's system under test when no --url is given: the real gateway wired as gateway/main.ts
// wires a Redis + Postgres deployment, with its HTTP admin API mounted, so the floor sets itself
// up through the admin API exactly as it does against a remote dialhub.
import { ServerClock } from '../../../engine/clock.js';
import { createRedisQueueStore } from '../../../engine/redis/redis-queue-store.js';
import { createDatabase } from '../../../db/index.js';
import { createDeviceTokens } from '../../../gateway/auth/device-token.js';
import { leaseIdsFrom } from '../../../gateway/auth/lease-ids.js';
import { loadConfig } from '../../../gateway/config.js';
import type { ConfigInput } from '../../../gateway/config.js';
import { createGateway } from '../../../gateway/gateway.js';
import { createHttpApp } from '../../../gateway/http/app.js';
import { createLogger } from '../../../gateway/logger.js';
import type { ServerApi } from '../loop/api.js';
import { childArgs, serve } from '../loop/ipc.js';
import { createProfiler, memoryReading, serverMark } from '../loop/server-probe.js';

export interface FloorGatewayArgs {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  /** Carries application_name, so the orchestrator can find this pool's backends. */
  readonly postgresUrl: string;
  readonly schema: string;
  readonly deviceTokenSecret: string;
  readonly adminToken: string;
  readonly config: ConfigInput;
}

const args = childArgs<FloorGatewayArgs>();
const store = await createRedisQueueStore({
  url: args.redisUrl,
  keyPrefix: args.keyPrefix,
  leaseIds: leaseIdsFrom(args.deviceTokenSecret),
});
const clock = new ServerClock(() => store.serverTime());
await clock.start();
const db = createDatabase({ url: args.postgresUrl, searchPath: args.schema });
await db.migrate();
const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...args.config });
const logger = createLogger(config.LOG_LEVEL);
const tokens = createDeviceTokens(args.deviceTokenSecret);
const gateway = createGateway({
  config,
  store,
  clock,
  db,
  logger,
  tokens,
  http: (g) =>
    createHttpApp(g, { adminToken: args.adminToken, logger, tokens, serverSecret: args.deviceTokenSecret }),
});

serve<ServerApi>({
  async start() {
    const address = await gateway.start(0, '127.0.0.1');
    return { port: address.port };
  },
  mark() {
    const w = db.outcomes.stats();
    return Promise.resolve(serverMark(w.rows, { outcome_batches: w.batches }));
  },
  memory: memoryReading,
  profile: createProfiler(),
  async shutdown() {
    await gateway.stop();
    await db.close();
    await store.close();
    clock.stop();
  },
});
