// A request to every other gateway over the Socket.IO adapter (serverSideEmit with an
// acknowledgement) that always settles. Socket.IO's Namespace#serverSideEmit drops the promise of
// the adapter's request: the cluster adapter first counts the gateways (PUBSUB NUMSUB through
// its Redis client), and when that command fails (a Redis master killed, its client dropped) the
// request is never made and the acknowledgement never called. A caller awaiting it waited for
// ever: on a Redis Cluster failover a campaign rebuild asking for the calls held elsewhere hung,
// and with it every agent:ready of that gateway (the fault suite's redis-failover, drain-stuck).
// Here the adapter's failure, the adapter's own timeout and a bound of our own all reject.
//
// Nor does the adapter know every gateway: the streams adapter counts only those whose heartbeat
// it has heard, and with none heard it answers at once, with no answers and no error. A request
// that must reach every gateway (a rebuild asking for the calls in progress) goes through
// askEveryGateway: each gateway answers with its id, and every gateway the registry in Redis says
// is alive (gateway-registry.ts) must have answered, or the request fails UNAVAILABLE.
import { z } from 'zod';
import { GatewayError } from './errors.js';
import type { GatewayRegistry } from './gateway-registry.js';

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

/** The envelope a request to every gateway travels in: each gateway answers it with its id. */
export const NAMED_ASK_EVENT = 'gateway:ask';

/** How long (ms) between two rounds of a request some registered gateway has not answered. */
export const EVERY_GATEWAY_RETRY_MS = 200;

/** One gateway's answer to a request to every gateway (refused: it does not answer that event). */
const namedAnswer = z.object({
  gateway: z.string().min(1),
  answer: z.unknown(),
  refused: z.literal(true).optional(),
});
type NamedAnswer = z.infer<typeof namedAnswer>;

const namedRequest = z.tuple([z.string().min(1), z.array(z.unknown())]);

/** The part of a Socket.IO namespace a gateway answering requests by name uses. */
export interface AnsweringNamespace extends AskingNamespace {
  on(event: typeof NAMED_ASK_EVENT, listener: (...args: unknown[]) => void): unknown;
  /** Runs this gateway's own listeners of an inter-server event, as the adapter does for a request. */
  _onServerSideEmit(args: [string, ...unknown[]]): void;
}

/**
 * This gateway's own answer to `event`, from the very listener that answers the other gateways
 * (it is run as the adapter runs it). Rejects UNAVAILABLE when the listener does not answer.
 */
function answerHere<T>(nsp: AnsweringNamespace, event: string, args: readonly unknown[]): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new GatewayError('UNAVAILABLE', `this gateway did not answer ${event}`)),
      ASK_TIMEOUT_MS,
    );
    timer.unref();
    nsp._onServerSideEmit([
      event,
      ...args,
      (answer: T) => {
        clearTimeout(timer);
        resolve(answer);
      },
    ]);
  });
}

/**
 * Answer the other gateways' requests by name for `events` (those of askEveryGateway): this
 * gateway's own listener answers, and the answer carries this gateway's id.
 */
export function answerByName(nsp: AnsweringNamespace, gatewayId: string, events: readonly string[]): void {
  nsp.on(NAMED_ASK_EVENT, (...received: unknown[]) => {
    const last = received.pop();
    if (typeof last !== 'function') return;
    const ack = last as (reply: NamedAnswer) => void;
    const request = namedRequest.safeParse(received);
    // Not a request this gateway answers: say so, by name, rather than leave the asker waiting.
    if (!request.success || !events.includes(request.data[0])) {
      ack({ gateway: gatewayId, answer: null, refused: true });
      return;
    }
    const [event, args] = request.data;
    answerHere(nsp, event, args).then(
      (answer) => ack({ gateway: gatewayId, answer } satisfies NamedAnswer),
      () => ack({ gateway: gatewayId, answer: null, refused: true }),
    );
  });
}

/**
 * Send `event` with `args` to every gateway registered alive, this one included, and resolve with
 * one answer from each (this gateway's first). A registered gateway the adapter does not count
 * (yet, or any more) is asked again every EVERY_GATEWAY_RETRY_MS, each gateway's latest answer
 * kept; one that has still not answered after
 * `timeoutMs` (the adapter's failure or its own timeout: at once) fails the request UNAVAILABLE,
 * retryable. A gateway that stopped gracefully left the registry; a dead one's entry expires.
 */
export async function askEveryGateway<T>(
  nsp: AnsweringNamespace,
  registry: GatewayRegistry,
  event: string,
  args: readonly unknown[],
  timeoutMs = ASK_TIMEOUT_MS,
): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  // Each gateway's latest answer, kept across rounds: an adapter that counts too few gateways
  // resolves as soon as that many answered, so each round may hear a different few.
  const answers = new Map<string, unknown>();
  for (;;) {
    // The roll is read before asking: a gateway that can hold calls when the request is answered
    // registered before it started listening, so before this read.
    let roll;
    try {
      roll = await registry.roll();
    } catch (err) {
      throw new GatewayError('UNAVAILABLE', 'the registry of gateways could not be read', {
        cause: err instanceof Error ? err.message : String(err),
      });
    }
    const here = await answerHere<T>(nsp, event, args);
    const left = Math.max(1, deadline - Date.now());
    const raw = await askGateways<unknown>(nsp, NAMED_ASK_EVENT, [event, args], left);
    for (const r of raw) {
      const a = namedAnswer.safeParse(r);
      if (a.success && !a.data.refused) answers.set(a.data.gateway, a.data.answer);
    }
    const missing = roll.others.filter((g) => !answers.has(g));
    if (roll.trusted && missing.length === 0) return [here, ...([...answers.values()] as T[])];
    if (Date.now() + EVERY_GATEWAY_RETRY_MS >= deadline) {
      throw new GatewayError(
        'UNAVAILABLE',
        roll.trusted
          ? `${missing.length} registered gateway(s) did not answer ${event}`
          : `the registry of gateways may have lost entries: ${event} cannot be sure to reach every gateway yet`,
        { missing: missing.length },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, EVERY_GATEWAY_RETRY_MS).unref());
  }
}
