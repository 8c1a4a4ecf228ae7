// A gateway in a child process, for tests that kill one (crash tests) or run several.
// Usage: node --import tsx test/support/gateway-child.ts '<json options>'
// Prints "LISTENING <port>" once it serves; stays up until killed or sent SIGTERM.
import { systemClock } from '../../engine/clock.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { createDatabase } from '../../db/index.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { loadConfig } from '../../gateway/config.js';
import type { ConfigInput } from '../../gateway/config.js';
import { createGateway } from '../../gateway/gateway.js';
import { silentLogger } from '../../gateway/logger.js';
import { TEST_LEASE_IDS } from './stores.js';

interface ChildOptions {
  readonly keyPrefix: string;
  readonly schema: string;
  readonly postgresUrl: string;
  readonly redisUrl: string;
  readonly secret: string;
  readonly config: ConfigInput;
}

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
// Signs lease ids with the key the test's own gateway and stores use: one deployment.
const store = await createRedisQueueStore({
  url: options.redisUrl,
  keyPrefix: options.keyPrefix,
  leaseIds: TEST_LEASE_IDS,
});
const db = createDatabase({ url: options.postgresUrl, searchPath: options.schema });
const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...options.config });
const gateway = createGateway({
  config,
  store,
  clock: systemClock,
  db,
  logger: silentLogger,
  tokens: createDeviceTokens(options.secret),
});
const address = await gateway.start(0, '127.0.0.1');
process.stdout.write(`LISTENING ${address.port}\n`);
process.on('SIGTERM', () => {
  void gateway
    .stop()
    .then(() => Promise.all([db.close(), store.close()]))
    .then(() => process.exit(0));
});
