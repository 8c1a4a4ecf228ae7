// The system under test, in a process of its own: the real gateway, wired the way gateway/main.ts
// wires it for a Redis + Postgres deployment (Redis queue store under the run's key prefix, the
// clock following Redis's TIME, Postgres in the run's private schema, the loaded config), minus
// the HTTP admin API and, unless `adapter` is given, the Socket.IO Redis adapter, which one process
// serving devices does not use on the call path (`loop --gateways` runs several of these on one
// adapter stream, as gateway/main.ts does). Leads go in through gateway.addLeads, as the import
// API does.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from '@redis/client';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServerClock } from '../../../engine/clock.js';
import { asTenantId } from '../../../engine/ids.js';
import type { CampaignRef } from '../../../engine/ids.js';
import { leaseIdsFrom } from '../../../gateway/auth/lease-ids.js';
import { createRedisQueueStore } from '../../../engine/redis/redis-queue-store.js';
import { createDatabase } from '../../../db/index.js';
import type { NewLead } from '../../../db/index.js';
import { createDeviceTokens } from '../../../gateway/auth/device-token.js';
import { loadConfig } from '../../../gateway/config.js';
import type { ConfigInput } from '../../../gateway/config.js';
import { createGateway } from '../../../gateway/gateway.js';
import { createLogger } from '../../../gateway/logger.js';
import { OfferBudget } from '../../../gateway/offer-budget.js';
import { elapsedMs } from '../../lib/stats.js';
import { standardLead } from '../engine/leads.js';
import type { QueueServerApi } from './api.js';
import { childArgs, serve } from './ipc.js';
import { createProfiler, memoryReading, serverMark } from './server-probe.js';

export interface DialhubServerArgs {
  readonly redisUrl: string;
  readonly keyPrefix: string;
  /** Carries application_name, so the orchestrator can find this pool's backends. */
  readonly postgresUrl: string;
  readonly schema: string;
  readonly deviceTokenSecret: string;
  readonly tenantId: string;
  readonly campaignId: string;
  /** Only what differs from gateway/config.ts defaults (the orchestrator records it). */
  readonly config: ConfigInput;
  /** Share the Socket.IO streams adapter on this stream with the other gateways of the run. */
  readonly adapterStream?: string;
}

const args = childArgs<DialhubServerArgs>();
const store = await createRedisQueueStore({
  url: args.redisUrl,
  keyPrefix: args.keyPrefix,
  leaseIds: leaseIdsFrom(args.deviceTokenSecret),
});
const clock = new ServerClock(() => store.serverTime());
await clock.start();
const db = createDatabase({ url: args.postgresUrl, searchPath: args.schema });
const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', ...args.config });
const offerBudget = new OfferBudget();
// As gateway/main.ts: the adapter has a client of its own (it duplicates it for its stream reads).
const adapterClient = args.adapterStream ? createClient({ url: args.redisUrl }) : undefined;
if (adapterClient) {
  adapterClient.on('error', () => undefined);
  await adapterClient.connect();
}
const gateway = createGateway({
  // Behind HAProxy (loop --gateways) the load balancer's readiness check needs an answer; the
  // admin API stays out of the process under test.
  ...(args.adapterStream
    ? {
        http: () => (req: IncomingMessage, res: ServerResponse) =>
          void res.writeHead(req.url === '/readyz' ? 200 : 404).end(),
      }
    : {}),
  ...(adapterClient && args.adapterStream
    ? {
        adapter: createAdapter(adapterClient, {
          streamName: args.adapterStream,
          channelPrefix: `${args.keyPrefix}socket.io`,
          sessionKeyPrefix: `${args.keyPrefix}sio:session:`,
        }),
      }
    : {}),
  offerBudget,
  config,
  store,
  clock,
  db,
  logger: createLogger(config.LOG_LEVEL),
  tokens: createDeviceTokens(args.deviceTokenSecret),
});
const tenantId = asTenantId(args.tenantId);
const ref: CampaignRef = { tenantId, campaignId: args.campaignId as CampaignRef['campaignId'] };

const toNewLead = (i: number): NewLead => {
  const { phone, name, timeZone } = standardLead(i);
  return { phone, name, timeZone };
};

serve<QueueServerApi>({
  async start() {
    const address = await gateway.start(0, '127.0.0.1');
    return { port: address.port };
  },
  async fill({ from, count, batch }) {
    const started = process.hrtime.bigint();
    let queued = 0;
    for (let i = 0; i < count; i += batch) {
      const leads = Array.from({ length: Math.min(batch, count - i) }, (_, k) => toNewLead(from + i + k));
      const added = await gateway.addLeads(tenantId, args.campaignId, leads);
      if (added.queued !== leads.length) {
        throw new Error(`addLeads queued ${added.queued} of ${leads.length}: ${JSON.stringify(added)}`);
      }
      queued += added.queued;
    }
    return { queued, ms: elapsedMs(started) };
  },
  async depth() {
    return (await store.stats(ref, clock.now())).ready;
  },
  mark() {
    const w = db.outcomes.stats();
    return Promise.resolve(
      serverMark(w.rows, {
        outcome_batches: w.batches,
        outcome_largest_batch: w.largestBatch,
        outcome_rejected: w.rejected,
        ...offerBudget.counters(),
      }),
    );
  },
  profile: createProfiler(),
  memory: memoryReading,
  async shutdown() {
    await gateway.stop();
    if (adapterClient?.isOpen) await adapterClient.close();
    await db.close();
    await store.close();
    clock.stop();
  },
});
