// Configuration, parsed once at start from the environment into a typed, frozen object. Nothing
// else reads process.env. Empty strings count as unset; every problem is reported at once,
// naming the variable.
import { DEFAULT_IMPORT_HEAP_GROWTH_PERCENT } from './heap.js';
import { z } from 'zod';

const ms = (fallback: number, min = 1, max = 86_400_000) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().default('0.0.0.0'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(8080),
    /** URL printed for people (demo mode); derived from HOST/PORT when unset. */
    PUBLIC_URL: z.url().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    /** Unset: the in-memory queue store (one process, zero setup). */
    REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
    /**
     * Redis Cluster instead of REDIS_URL: comma-separated redis:// URLs of some of its nodes (the
     * client discovers the rest). Campaigns spread across the cluster by their hash tag.
     */
    REDIS_CLUSTER_NODES: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ protocol: /^rediss?$/ })).min(1))
      .optional(),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_:.-]{1,32}$/)
      .default('dh:'),
    /** Unset: embedded Postgres (PGlite) in DATA_DIR. */
    DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    DATA_DIR: z.string().default('.data'),

    /** HMAC secret for device tokens; generated and kept in DATA_DIR when unset. */
    DEVICE_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Bearer token of the admin API; generated and kept in DATA_DIR when unset. */
    ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    /** Browser origins allowed on Socket.IO besides the gateway's own (comma separated); clients sending no Origin are not browsers and always pass. */
    ALLOWED_ORIGINS: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .optional(),
    /**
     * Load balancers whose X-Forwarded-For the gateway believes (express `trust proxy`: addresses,
     * CIDRs, or `loopback` / `uniquelocal`; comma separated). Unset: none, and every client behind
     * one balancer shares its address in the per-address login limit.
     */
    TRUSTED_PROXIES: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim())
          .filter(Boolean),
      )
      .optional(),
    /**
     * Seed the demo tenant. Unset: only in zero-setup mode (no DATABASE_URL) on a new database (no
     * tenant yet, or the demo tenant of an earlier zero-setup start); never against a real database.
     */
    SEED_DEMO: flag.optional(),

    /** An offer lives minutes at most: it is accepted in its calling window (checked again at accept). */
    OFFER_TTL_MS: ms(15_000, 1_000, 300_000),
    OFFER_ACK_TIMEOUT_MS: ms(3_000, 100),
    CALL_TTL_MS: ms(90_000, 5_000),
    LEASE_HEARTBEAT_MS: ms(20_000, 500),
    RECONNECT_GRACE_MS: ms(30_000, 0),
    /**
     * Socket.IO heartbeat: a device that stops answering (frozen app, dead radio, half-open TCP)
     * is taken for gone PING_INTERVAL_MS + PING_TIMEOUT_MS after its last pong, and its call then
     * waits RECONNECT_GRACE_MS for it before going back to the queue. Unset: see `heartbeat`.
     */
    PING_INTERVAL_MS: z.coerce.number().int().min(500).max(300_000).optional(),
    PING_TIMEOUT_MS: z.coerce.number().int().min(500).max(300_000).optional(),
    RECLAIM_INTERVAL_MS: ms(1_000, 50, 60_000),
    DISPATCH_BATCH: z.coerce.number().int().min(1).max(2_000).default(256),
    /** Events a device may send per second before it is answered RATE_LIMITED. */
    AGENT_EVENT_RATE: z.coerce.number().int().min(1).max(100_000).default(50),
    SHUTDOWN_TIMEOUT_MS: ms(9_000, 100, 60_000),
    /**
     * While a CSV import runs: how far the heap may grow past what the last full garbage
     * collection left alive, in percent (gateway/heap.ts); 0: V8's own heuristics (up to 300 %).
     */
    IMPORT_HEAP_GROWTH_PERCENT: z.coerce
      .number()
      .int()
      .min(0)
      .max(300)
      .default(DEFAULT_IMPORT_HEAP_GROWTH_PERCENT),
    /** Where SMS follow-ups are POSTed as JSON { to, body, reference }; unset: SMS follow-ups are refused. */
    SMS_HTTP_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Sent to SMS_HTTP_URL as a bearer token when set. */
    SMS_HTTP_TOKEN: z.string().min(1).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.REDIS_URL !== undefined && c.REDIS_CLUSTER_NODES !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_CLUSTER_NODES'],
        message: 'set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both',
      });
    }
    if (c.LEASE_HEARTBEAT_MS * 2 > c.CALL_TTL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['LEASE_HEARTBEAT_MS'],
        message: 'must be at most half of CALL_TTL_MS',
      });
    }
    if (c.RECONNECT_GRACE_MS >= c.CALL_TTL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['RECONNECT_GRACE_MS'],
        message: 'must be shorter than CALL_TTL_MS',
      });
    }
    const { pingIntervalMs, pingTimeoutMs } = heartbeat(c);
    if (pingIntervalMs + pingTimeoutMs > c.CALL_TTL_MS / 2) {
      // Heartbeats keep extending the lease of a device the socket layer still counts as
      // connected: detection must come well inside one lease lifetime.
      ctx.addIssue({
        code: 'custom',
        path: ['PING_INTERVAL_MS'],
        message: 'PING_INTERVAL_MS + PING_TIMEOUT_MS must be at most half of CALL_TTL_MS',
      });
    }
    if (c.OFFER_ACK_TIMEOUT_MS >= c.OFFER_TTL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['OFFER_ACK_TIMEOUT_MS'],
        message: 'must be shorter than OFFER_TTL_MS',
      });
    }
  });

export type Config = Readonly<z.output<typeof configSchema>>;

/**
 * The Socket.IO heartbeat in effect: as configured, or 10 s / 8 s, shortened for a short
 * CALL_TTL_MS so that a silent device is always noticed within half a lease lifetime.
 */
export function heartbeat(c: Pick<Config, 'PING_INTERVAL_MS' | 'PING_TIMEOUT_MS' | 'CALL_TTL_MS'>): {
  pingIntervalMs: number;
  pingTimeoutMs: number;
} {
  const share = Math.max(500, Math.floor(c.CALL_TTL_MS / 5));
  return {
    pingIntervalMs: c.PING_INTERVAL_MS ?? Math.min(10_000, share),
    pingTimeoutMs: c.PING_TIMEOUT_MS ?? Math.min(8_000, share),
  };
}
export type ConfigInput = Partial<Record<keyof z.input<typeof configSchema>, string>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}

/** Parse an environment (process.env at the entry point; a plain object in tests). */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  const cleaned = Object.fromEntries(
    Object.keys(configSchema.shape)
      .map((key) => [key, env[key]?.trim()] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`));
  }
  return Object.freeze(parsed.data);
}
