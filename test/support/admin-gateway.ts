// A gateway with its HTTP app (admin API, auth) on real Redis (own key prefix) and real Postgres
// (own schema), listening on port 0, for the identity and admin API tests.
import { systemClock } from '../../engine/clock.js';
import { createDeviceTokens, sessionLiveness } from '../../gateway/auth/device-token.js';
import { hashPassword } from '../../gateway/auth/passwords.js';
import { loadConfig } from '../../gateway/config.js';
import type { ConfigInput } from '../../gateway/config.js';
import { createGateway } from '../../gateway/gateway.js';
import type { Gateway, GatewayDeps } from '../../gateway/gateway.js';
import { createHttpApp } from '../../gateway/http/app.js';
import type { HttpAppOptions } from '../../gateway/http/app.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { silentLogger } from '../../gateway/logger.js';
import type { Logger } from '../../gateway/logger.js';
import type { UserRole } from '../../db/index.js';
import { FAST, TEST_SECRET } from './gateway.js';
import { createTestDatabase } from './postgres.js';
import type { TestDatabase } from './postgres.js';
import { makeStore } from './stores.js';
import type { TestStore } from './stores.js';

export const TEST_ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
export const TEST_PASSWORD = 'correct horse battery staple';

export interface AdminGatewayOptions {
  readonly config?: ConfigInput;
  readonly logger?: Logger;
  readonly shared?: { store: TestStore; pg: TestDatabase };
  readonly adapter?: GatewayDeps['adapter'];
  readonly loginLimits?: HttpAppOptions['loginLimits'];
  /** Share login rate limits and disconnects through the test store's Redis (under its prefix). */
  readonly redis?: boolean;
  /** Attach the /supervisor namespace too (gateway/supervisor). */
  readonly supervisor?: GatewayDeps['supervisor'];
}

export class AdminGateway {
  private constructor(
    readonly gateway: Gateway,
    readonly url: string,
    readonly store: TestStore,
    readonly pg: TestDatabase,
    private readonly owned: boolean,
  ) {}

  static async start(options: AdminGatewayOptions = {}): Promise<AdminGateway> {
    const store = options.shared?.store ?? (await makeStore('redis'));
    const pg = options.shared?.pg ?? (await createTestDatabase());
    const logger = options.logger ?? silentLogger;
    const tokens = createDeviceTokens(TEST_SECRET, { isSessionLive: sessionLiveness(pg.db.sessions) });
    const gateway = createGateway({
      config: loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ...FAST, ...options.config }),
      store: store.store,
      clock: systemClock,
      db: pg.db,
      logger,
      tokens,
      ...(options.adapter ? { adapter: options.adapter } : {}),
      ...(options.supervisor ? { supervisor: options.supervisor } : {}),
      http: (g) =>
        createHttpApp(g, {
          adminToken: TEST_ADMIN_TOKEN,
          logger,
          tokens,
          serverSecret: TEST_SECRET,
          ...(options.loginLimits ? { loginLimits: options.loginLimits } : {}),
          ...(options.redis
            ? { redis: { client: (store.store as RedisQueueStore).client, keyPrefix: store.prefix } }
            : {}),
        }),
    });
    const address = await gateway.start(0, '127.0.0.1');
    return new AdminGateway(gateway, `http://127.0.0.1:${address.port}`, store, pg, !options.shared);
  }

  get db() {
    return this.pg.db;
  }

  /** `Bearer <access token>` of a user seeded by `seedTenant` (logged in with TEST_PASSWORD). */
  async bearer(tenantId: string, userId: string): Promise<string> {
    const res = await fetch(`${this.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId, email: `${userId}@${tenantId}.test`, password: TEST_PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`login of ${userId}@${tenantId} answered ${res.status}`);
    return `Bearer ${((await res.json()) as { accessToken: string }).accessToken}`;
  }

  /** A tenant with one user per role given, each with e-mail `<id>@<tenant>.test` and TEST_PASSWORD. */
  async seedTenant(
    tenantId: string,
    users: readonly { id: string; role: UserRole }[],
    deviceLimit = 10,
    plan: { defaultCountry?: string; defaultTimeZone?: string } = {},
  ): Promise<void> {
    await this.db.tenants.create({
      id: tenantId,
      name: `Tenant ${tenantId}`,
      plan: { deviceLimit, ...plan },
    });
    const passwordHash = await hashPassword(TEST_PASSWORD);
    for (const u of users) {
      await this.db.users.create({
        tenantId,
        id: u.id,
        name: `User ${u.id}`,
        role: u.role,
        email: `${u.id}@${tenantId}.test`.toLowerCase(),
        passwordHash,
      });
    }
  }

  async stop(): Promise<void> {
    await this.gateway.stop();
    if (this.owned) {
      await this.store.dispose();
      await this.pg.dispose();
    }
  }
}
