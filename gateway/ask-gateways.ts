// A request to every other gateway over the Socket.IO adapter (serverSideEmit with an
// acknowledgement) that always settles. Socket.IO's Namespace#serverSideEmit drops the promise of
// the adapter's request: the cluster adapter first counts the gateways (PUBSUB NUMSUB through
// its Redis client), and when that command fails (a Redis master killed, its client dropped) the
// request is never made and the acknowledgement never called. A caller awaiting it waited for
// ever: on a Redis Cluster failover a campaign rebuild asking for the calls held elsewhere hung,
// and with it every agent:ready of that gateway (the fault suite's redis-failover, drain-stuck).
// Here the adapter's failure, the adapter's own timeout and a bound of our own all reject.
import { GatewayError } from './errors.js';

/** The part of a Socket.IO namespace this uses (its adapter's request is a promise on a cluster). */
interface AskingNamespace {
  readonly adapter: { serverSideEmit(packet: unknown[]): unknown };
}

/** No answer from every other gateway after this long (ms) fails the request. */
export const ASK_TIMEOUT_MS = 6_000;

/**
 * Send `event` with `args` to every other gateway; resolves with one answer per gateway, rejects
 * (UNAVAILABLE, retryable) when the adapter could not send it or not every gateway answered.
 */
export function askGateways<T>(
  nsp: AskingNamespace,
  event: string,
  args: readonly unknown[],
  timeoutMs = ASK_TIMEOUT_MS,
): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    let done = false;
    const settle = (err: unknown, answers?: T[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err === null || err === undefined) resolve(answers ?? []);
      else
        reject(
          new GatewayError('UNAVAILABLE', `the other gateways did not answer ${event}`, {
            cause: err instanceof Error ? err.message : JSON.stringify(err),
          }),
        );
    };
    const timer = setTimeout(() => settle(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
    try {
      const sent = nsp.adapter.serverSideEmit([
        event,
        ...args,
        (err: Error | null, answers: T[]) => settle(err, answers),
      ]);
      if (sent instanceof Promise) sent.catch((err: unknown) => settle(err ?? new Error('adapter failed')));
    } catch (err) {
      settle(err ?? new Error('adapter failed'));
    }
  });
}
