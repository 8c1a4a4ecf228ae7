// The webhook delivery worker: claims due deliveries from the Postgres outbox (db/webhooks.ts),
// posts each signed per Standard Webhooks (the `standardwebhooks` package: webhook-id,
// webhook-timestamp, webhook-signature headers over the exact body), and records the try in the
// delivery log. At least once: a delivery stays pending until a 2xx answer, retried with
// exponential backoff (base, doubled per try, capped) up to a number of tries, then failed (an
// admin can replay it). Every gateway runs one; claims never overlap (SKIP LOCKED plus a
// visibility timeout longer than a post may take), so adding gateways adds throughput.
import { Webhook } from 'standardwebhooks';
import type { Clock } from '../../engine/clock.js';
import type { ClaimedDelivery, WebhookRepository } from '../../db/privacy/index.js';
import type { Logger } from '../logger.js';
import { startOutboxPoller } from '../outbox-poller.js';

export interface WebhookWorkerOptions {
  /** How often to look for due deliveries when the last look found none. Default 1 s. */
  readonly pollMs?: number;
  /** Deliveries claimed per round. Default 20. */
  readonly batch?: number;
  /** A post that takes longer fails (and is retried). Default 10 s. */
  readonly timeoutMs?: number;
  /** First retry after this long, doubled per try. Default 1 s. */
  readonly backoffBaseMs?: number;
  /** Longest wait between tries. Default 1 h. */
  readonly backoffMaxMs?: number;
  /** Tries before a delivery is marked failed. Default 15 (about 10 hours with the defaults). */
  readonly maxAttempts?: number;
}

export interface WebhookWorker {
  /** One round: claim, post, record. Returns how many deliveries it handled. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** The wait before try n+1 after n failed tries. */
export const backoffMs = (attempts: number, base: number, max: number): number =>
  Math.min(max, base * 2 ** Math.max(0, attempts - 1));

export function createWebhookWorker(
  repo: WebhookRepository,
  clock: Clock,
  logger: Logger,
  options: WebhookWorkerOptions = {},
): WebhookWorker {
  const pollMs = options.pollMs ?? 1_000;
  const batch = options.batch ?? 20;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const base = options.backoffBaseMs ?? 1_000;
  const max = options.backoffMaxMs ?? 3_600_000;
  const maxAttempts = options.maxAttempts ?? 15;

  async function post(d: ClaimedDelivery): Promise<void> {
    const started = clock.now();
    const msgId = `evt_${d.eventId}`;
    const body = JSON.stringify({
      type: d.type,
      timestamp: new Date(d.eventAt).toISOString(),
      data: d.payload,
    });
    const signer = new Webhook(d.secret);
    const sentAt = new Date(started);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'dialhub-webhooks',
          'webhook-id': msgId,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(msgId, sentAt, body),
        },
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      statusCode = res.status;
      await res.body?.cancel();
      if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 300) : 'request failed';
    }
    const at = clock.now();
    const ok = error === null;
    const retryAt = ok || d.attempts >= maxAttempts ? null : at + backoffMs(d.attempts, base, max);
    await repo.record(d.tenantId, d.id, { at, statusCode, error, durationMs: at - started, ok, retryAt });
    const fields = { tenantId: d.tenantId, deliveryId: d.id, type: d.type, attempts: d.attempts, statusCode };
    if (ok) logger.info(fields, 'webhook.delivered');
    else if (retryAt === null) logger.warn(fields, 'webhook.failed');
    else logger.info({ ...fields, retryAt }, 'webhook.retry');
  }

  async function runOnce(): Promise<number> {
    const claimed = await repo.claimDue(clock.now(), batch, timeoutMs * 3);
    await Promise.all(claimed.map((d) => post(d)));
    return claimed.length;
  }

  const poller = startOutboxPoller({ runOnce, batch, pollMs, logger, failedEvent: 'webhook.round_failed' });

  return {
    runOnce,
    stop: () => poller.stop(),
  };
}
