// The SMS outbox worker: claims due SMS follow-ups (db/followups.ts), hands each to the provider,
// and records the result. At least once, like the webhook worker: a follow-up stays pending until
// the provider accepts it, retried with exponential backoff up to a number of tries, then failed.
// The follow-up's id goes with every try (`reference`, and the Idempotency-Key header of the HTTP
// provider) so a provider can drop the repeat a crash between its answer and our record causes.
// Logs carry ids and status codes, never the number or the text.
import type { Clock } from '../../engine/clock.js';
import type { FollowupRepository } from '../../db/privacy/index.js';
import type { Logger } from '../logger.js';
import { startOutboxPoller } from '../outbox-poller.js';
import { backoffMs } from '../webhooks/delivery-worker.js';
import type { SmsProvider } from './sms-provider.js';

export interface SmsWorkerOptions {
  /** How often to look for due SMS when the last look found none. Default 1 s. */
  readonly pollMs?: number;
  /** Claimed per round. Default 20. */
  readonly batch?: number;
  /** How long a claimed SMS is hidden from other workers. Default 30 s. */
  readonly visibilityMs?: number;
  /** First retry after this long, doubled per try. Default 2 s. */
  readonly backoffBaseMs?: number;
  /** Longest wait between tries. Default 1 h. */
  readonly backoffMaxMs?: number;
  /** Tries before the follow-up is marked failed. Default 10. */
  readonly maxAttempts?: number;
}

export interface SmsWorker {
  /** One round: claim, send, record. Returns how many it handled. */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function createSmsWorker(
  repo: FollowupRepository,
  provider: SmsProvider,
  clock: Clock,
  logger: Logger,
  options: SmsWorkerOptions = {},
): SmsWorker {
  const pollMs = options.pollMs ?? 1_000;
  const batch = options.batch ?? 20;
  const visibilityMs = options.visibilityMs ?? 30_000;
  const base = options.backoffBaseMs ?? 2_000;
  const max = options.backoffMaxMs ?? 3_600_000;
  const maxAttempts = options.maxAttempts ?? 10;

  async function runOnce(): Promise<number> {
    const claimed = await repo.claimDueSms(clock.now(), batch, visibilityMs);
    await Promise.all(
      claimed.map(async (sms) => {
        const r = await provider.send({ to: sms.phone, body: sms.body, reference: `fu_${sms.id}` });
        const at = clock.now();
        const retryAt = r.ok || sms.attempts >= maxAttempts ? null : at + backoffMs(sms.attempts, base, max);
        await repo.recordSms(sms.tenantId, sms.id, { at, ...r, retryAt });
        const fields = {
          tenantId: sms.tenantId,
          followupId: sms.id,
          attempts: sms.attempts,
          statusCode: r.statusCode,
        };
        if (r.ok) logger.info(fields, 'followup.sms_sent');
        else if (retryAt === null) logger.warn(fields, 'followup.sms_failed');
        else logger.info({ ...fields, retryAt }, 'followup.sms_retry');
      }),
    );
    return claimed.length;
  }

  const poller = startOutboxPoller({ runOnce, batch, pollMs, logger, failedEvent: 'followup.round_failed' });

  return {
    runOnce,
    stop: () => poller.stop(),
  };
}
