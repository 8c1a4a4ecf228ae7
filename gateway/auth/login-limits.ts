// Login rate limits: per client IP (every attempt counts) and per account (tenant + e-mail; only
// failures count, and a success clears them), so neither a spray across accounts from one address
// nor a slow guess at one account from many addresses gets far. In Redis when the gateway runs on
// Redis (every gateway shares the counts), in memory in the zero-setup mode.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { GatewayError } from '../errors.js';

export interface LoginLimitOptions {
  /** A connected node-redis client and the key prefix to use; memory when absent. */
  readonly redis?: { readonly client: unknown; readonly keyPrefix: string };
  /** Attempts per IP per minute (default 30). */
  readonly perIpPerMinute?: number;
  /** Failures per account per 15 minutes (default 10). */
  readonly failuresPerAccount?: number;
}

export interface LoginLimits {
  /** Count an attempt from this IP, and refuse when it or the account is over its limit. */
  begin(ip: string, account: string): Promise<void>;
  failed(account: string): Promise<void>;
  succeeded(account: string): Promise<void>;
}

function limiter(
  options: LoginLimitOptions,
  name: string,
  points: number,
  duration: number,
): RateLimiterAbstract {
  const common = { points, duration, keyPrefix: `${options.redis?.keyPrefix ?? ''}login:${name}` };
  return options.redis
    ? new RateLimiterRedis({ ...common, storeClient: options.redis.client, useRedisPackage: true })
    : new RateLimiterMemory(common);
}

function limited(res: unknown, what: string): GatewayError {
  const seconds = res instanceof RateLimiterRes ? Math.max(1, Math.ceil(res.msBeforeNext / 1000)) : 60;
  return new GatewayError('RATE_LIMITED', `too many login attempts ${what}; retry in ${seconds} s`, {
    retryAfterSeconds: seconds,
  });
}

export function createLoginLimits(options: LoginLimitOptions = {}): LoginLimits {
  const perIp = limiter(options, 'ip', options.perIpPerMinute ?? 30, 60);
  const perAccount = limiter(options, 'account', options.failuresPerAccount ?? 10, 15 * 60);
  return {
    async begin(ip, account) {
      try {
        await perIp.consume(ip);
      } catch (err) {
        if (err instanceof Error) throw err; // the store failed: not a refusal
        throw limited(err, 'from this address');
      }
      const used = await perAccount.get(account);
      if (used && used.remainingPoints <= 0) throw limited(used, 'for this account');
    },
    async failed(account) {
      await perAccount.penalty(account, 1);
    },
    async succeeded(account) {
      await perAccount.delete(account);
    },
  };
}
