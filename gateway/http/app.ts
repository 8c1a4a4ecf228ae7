// The gateway's HTTP app: liveness and readiness probes, Prometheus metrics and the admin API,
// behind helmet and a request logger that never sees a body or a credential. Built once the
// gateway exists and handed to it as `deps.http`; Socket.IO shares the same server.
import cors from 'cors';
import express from 'express';
import type { Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { DeviceTokens } from '../auth/device-token.js';
import { createUserSessions } from '../auth/user-sessions.js';
import type { Gateway } from '../gateway.js';
import type { Logger } from '../logger.js';
import { createApiKeys } from '../auth/api-keys.js';
import { guardAgentSockets } from '../auth/assignment-guard.js';
import { createDisconnects } from '../auth/disconnects.js';
import { createLoginLimits } from '../auth/login-limits.js';
import type { LoginLimitOptions } from '../auth/login-limits.js';
import { authenticate } from './access.js';
import { adminRoutes } from './admin-routes.js';
import { authRoutes } from './auth-routes.js';
import { adminOpenApi } from './openapi.js';
import { auditTrail } from './audit-trail.js';
import { privacyRoutes } from '../privacy/routes.js';
import { webhookRoutes } from '../webhooks/routes.js';
import { followupRoutes } from '../followups/routes.js';
import { adapterStreamName, createStreamSweeper } from '../privacy/stream-sweep.js';
import type { StreamClient } from '../privacy/stream-sweep.js';
import { errorHandler, notFound } from './http-errors.js';
import { jsonBodiesOnly, methodNotAllowed } from './http-hygiene.js';
import { consoleRoutes } from '../supervisor/console-routes.js';
import { dashboardPages } from '../supervisor/dashboard-pages.js';
import { SUPERVISOR_NAMESPACE } from '../supervisor/protocol.js';
import { cutSupervisors } from '../supervisor/session-cuts.js';
import { wallboardRoutes } from '../supervisor/wallboard-routes.js';
import type { CuttableSocket } from '../supervisor/session-cuts.js';
import { agentAsyncApi } from '../protocol/asyncapi.js';
import { AGENT_NAMESPACE } from '../protocol/events.js';
import { PACKAGE_VERSION } from '../version.js';

export interface HttpAppOptions {
  /** The operator's bootstrap token: creates tenants and their first owner (see access.ts). */
  readonly adminToken: string;
  readonly logger: Logger;
  /** Issues the token returned when a device is registered. */
  readonly tokens: DeviceTokens;
  /** The secret every gateway shares (DEVICE_TOKEN_SECRET): access and refresh keys derive from it. */
  readonly serverSecret: string;
  /** Redis for the login rate limits (shared by every gateway); memory when absent. */
  readonly redis?: { readonly client: unknown; readonly keyPrefix: string };
  /** Login limits other than the defaults (tests). */
  readonly loginLimits?: Omit<LoginLimitOptions, 'redis'>;
  /** Largest JSON body accepted; a 10,000-lead import is about 2 MB. Default '5mb'. */
  readonly bodyLimit?: string;
}

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * A request path as logged: a phone number in it (`/dnc/+447700900123`, percent-encoded or not,
 * or whatever a client put after `/dnc/`) becomes `:phone`.
 */
export function maskNumbers(path: string | undefined): string | undefined {
  return path?.replace(/(\/dnc\/)[^/]+/g, '$1:phone').replace(/(?:%2B|\+)\d{6,15}/gi, ':phone');
}

export function createHttpApp(gateway: Gateway, options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind a load balancer, a client's address (the per-address login limit, the audit trail) is
  // the one the balancer forwards, believed only from the balancers named in TRUSTED_PROXIES.
  app.set('trust proxy', gateway.deps.config.TRUSTED_PROXIES ?? false);
  app.set('etag', false);

  // engine.io answers Socket.IO's long-polling requests itself; a request listener added to the
  // server after Socket.IO attached also receives them, so leave them alone here.
  const socketPath = `${gateway.io.path()}/`;
  app.use((req, _res, next) => {
    if (!req.url.startsWith(socketPath)) next();
  });

  app.use(
    pinoHttp({
      logger: options.logger,
      // Only the method, the path (no query string) and the status: no headers (credentials),
      // no bodies (phone numbers, names).
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          path: maskNumbers(req.url?.split('?')[0]),
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => PROBES.has(req.url?.split('?')[0] ?? '') },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      customSuccessMessage: () => 'http.request',
      customErrorMessage: () => 'http.request_failed',
    }),
  );
  app.use(helmet());

  // Process alive: no dependency is consulted, so a Postgres outage never restarts the process.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  // Ready for traffic: started, not draining, and every dependency answers.
  app.get('/readyz', async (_req, res) => {
    const health = await gateway.health();
    const ok = gateway.ready && health.ok;
    res
      .status(ok ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({
        status: ok ? 'ok' : 'unavailable',
        checks: { gateway: gateway.ready ? 'ok' : 'not ready', ...health.checks },
      });
  });

  // Aggregates only (no tenant data); expose it to the scraper's network, not the internet.
  app.get('/metrics', async (_req, res) => {
    const { registry } = gateway.metrics;
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });

  // The /agent protocol reference (AsyncAPI 3.0), generated from the protocol's zod schemas: public,
  // like the README it mirrors.
  // Both documents are built on first request, not at start (tens of ms a restart need not spend).
  let asyncApi: string | undefined;
  app.get('/api/v1/asyncapi.json', (_req, res) => {
    asyncApi ??= JSON.stringify(agentAsyncApi(PACKAGE_VERSION));
    res.type('application/json').send(asyncApi);
  });

  // The admin API's reference (OpenAPI 3.1), generated from the routes' zod schemas: public.
  let openApi: string | undefined;
  app.get('/api/v1/openapi.json', (_req, res) => {
    openApi ??= JSON.stringify(adminOpenApi(PACKAGE_VERSION));
    res.type('application/json').send(openApi);
  });

  const allowedOrigins = gateway.deps.config.ALLOWED_ORIGINS;
  const { db } = gateway.deps;
  const sessions = createUserSessions({
    db,
    serverSecret: options.serverSecret,
    deviceTokens: options.tokens,
  });
  const disconnects = createDisconnects({
    logger: options.logger,
    ...(options.redis ? { redis: options.redis } : {}),
  });
  disconnects.listen((t) => {
    if (t.deviceId !== undefined)
      gateway.hub.disconnectWhere({ tenantId: t.tenantId, deviceId: t.deviceId }, t.reason);
    else if (t.agentId !== undefined)
      gateway.hub.disconnectWhere({ tenantId: t.tenantId, agentId: t.agentId }, t.reason);
    // Only when the supervisor side is attached: of() would create an unguarded namespace.
    const wallboards = gateway.io._nsps.get(SUPERVISOR_NAMESPACE);
    if (wallboards) cutSupervisors(wallboards.sockets as unknown as ReadonlyMap<string, CuttableSocket>, t);
  });
  gateway.io.httpServer.once('close', () => void disconnects.close());
  const assignments = guardAgentSockets(gateway.io.of(AGENT_NAMESPACE), db, options.logger);
  const apiKeys = createApiKeys(db);
  app.use('/api/v1/console', consoleRoutes(gateway));
  app.use(
    '/api/v1/auth',
    (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    },
    cors({ origin: allowedOrigins ? [...allowedOrigins] : false }),
    jsonBodiesOnly,
    express.json({ limit: '16kb', strict: true }),
    authRoutes(
      sessions,
      createLoginLimits({ ...options.loginLimits, ...(options.redis ? { redis: options.redis } : {}) }),
      {
        onDeviceReplaced: (tenantId, deviceId) =>
          disconnects.publish({ tenantId, deviceId, reason: 'device_registered_again' }),
        onLogout: async (tenantId, _userId, deviceId, sessionId) => {
          // A device's socket, or a person's wallboards.
          await disconnects.publish(
            deviceId !== null
              ? { tenantId, deviceId, reason: 'logged_out' }
              : { tenantId, sessionId, reason: 'logged_out' },
          );
        },
      },
    ),
  );
  app.use(
    '/api/v1',
    (_req, res, next) => {
      res.set('Cache-Control', 'no-store');
      next();
    },
    cors({ origin: allowedOrigins ? [...allowedOrigins] : false }),
    authenticate({ adminToken: options.adminToken, sessions, apiKeys }),
    jsonBodiesOnly,
    express.json({ limit: options.bodyLimit ?? '5mb', strict: true }),
    adminRoutes(gateway, { sessions, disconnects, apiKeys, assignments }),
    wallboardRoutes(gateway, { disconnects }),
    webhookRoutes(gateway, { audit: auditTrail(db) }),
    followupRoutes(gateway, { audit: auditTrail(db) }),
    privacyRoutes(gateway, {
      audit: auditTrail(db),
      ...(options.redis
        ? {
            sweeper: createStreamSweeper(
              options.redis.client as StreamClient,
              [adapterStreamName(options.redis.keyPrefix)],
              options.logger,
            ),
          }
        : {}),
    }),
  );

  app.use(dashboardPages());
  app.use(methodNotAllowed(app));
  app.use(notFound);
  app.use(errorHandler(options.logger));
  return app;
}
