// The batched, idempotent outcome writer: group commit for call completions.
//
// The gateway acknowledges a completion to the device only once its outcome is committed, so
// every completion waits for a transaction; with one transaction each, throughput would be
// bounded by commit latency (an fsync). Instead, writes accumulate in a queue and are committed
// together: the first write schedules a flush on the next turn of the event loop (setImmediate)
// or after `maxDelayMs`, a queue reaching `maxBatch` flushes at once, and each caller's promise
// settles only after the transaction holding its write has committed.
//
// One flush at a time. While a transaction is in flight, new writes wait and go into the next
// batch, which starts the moment the current one ends: the busier the writer, the bigger the
// batches, so throughput grows with load at the price of one commit's latency. Concurrent
// flushes would buy little beyond that (they compete for the same WAL flush) and would let two
// batches touching one lead commit in either order and deadlock each other; one flush keeps the
// writer to a single pooled connection and makes the order of commits the order of arrival.
//
// Inputs are validated before they are queued (a bad one is rejected alone). A transaction that
// fails on a deadlock or serialization error is retried (each write is idempotent on its lease
// id); any other failure rejects every promise of the batch with WRITE_FAILED, nothing written.
import type { Knex } from 'knex';
import { DbError, pgCode } from './errors.js';
import { commitOutcomeBatch } from './outcome-batch.js';
import { outcomeInputSchema } from './outcome-input.js';
import type { OutcomeInput, ValidOutcome } from './outcome-input.js';
import type { OutcomeRecord } from './outcomes.js';
import { parseInput } from './validate.js';

export interface OutcomeWriterOptions {
  /** Most writes in one transaction. Default 500. */
  readonly maxBatch?: number;
  /** Wait this long for more writes before a flush; 0 (default) flushes on the next tick. */
  readonly maxDelayMs?: number;
  /** Retries of a batch that hit a deadlock or serialization failure. Default 2. */
  readonly maxRetries?: number;
}

export interface OutcomeWriterStats {
  /** Transactions committed. */
  readonly batches: number;
  /** Writes answered from committed batches (inserted + duplicates). */
  readonly rows: number;
  readonly inserted: number;
  readonly duplicates: number;
  /** Writes rejected: invalid, unknown lead, writer closed, or their batch failed. */
  readonly rejected: number;
  readonly failedBatches: number;
  readonly retries: number;
  readonly largestBatch: number;
  /** Writes queued for the next batch. */
  readonly pending: number;
  /** Writes in the transaction now running. */
  readonly inFlight: number;
}

export interface OutcomeWriter {
  /** Resolves once the outcome is committed (or found already committed: duplicate: true). */
  write(input: OutcomeInput): Promise<OutcomeRecord>;
  /** Resolves when every write made before the call has been committed or rejected. */
  flush(): Promise<void>;
  /** Stop taking writes (they reject with WRITER_CLOSED) and flush what is queued. */
  close(): Promise<void>;
  stats(): OutcomeWriterStats;
}

interface Pending {
  readonly input: ValidOutcome;
  readonly resolve: (record: OutcomeRecord) => void;
  readonly reject: (err: unknown) => void;
}

/** Deadlock and serialization failures: the transaction was rolled back and may simply be rerun. */
const TRANSIENT = new Set(['40001', '40P01']);

export function createOutcomeWriter(knex: Knex, options: OutcomeWriterOptions = {}): OutcomeWriter {
  const maxBatch = options.maxBatch ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 0;
  const maxRetries = options.maxRetries ?? 2;
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new RangeError('maxBatch must be a positive integer');
  if (!(maxDelayMs >= 0)) throw new RangeError('maxDelayMs must be >= 0');

  let queue: Pending[] = [];
  let inFlight: { size: number; done: Promise<void> } | undefined;
  let cancelTimer: (() => void) | undefined;
  let closed = false;
  const counts = {
    batches: 0,
    rows: 0,
    inserted: 0,
    duplicates: 0,
    rejected: 0,
    failedBatches: 0,
    retries: 0,
    largestBatch: 0,
  };

  function schedule(): void {
    if (inFlight !== undefined) return; // the running batch starts the next one when it ends
    if (queue.length >= maxBatch) {
      startBatch();
      return;
    }
    if (cancelTimer !== undefined) return;
    if (maxDelayMs > 0) {
      const timer = setTimeout(startBatch, maxDelayMs);
      cancelTimer = () => clearTimeout(timer);
    } else {
      const immediate = setImmediate(startBatch);
      cancelTimer = () => clearImmediate(immediate);
    }
  }

  function startBatch(): void {
    cancelTimer?.();
    cancelTimer = undefined;
    if (inFlight !== undefined || queue.length === 0) return;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(maxBatch);
    const done = runBatch(batch).finally(() => {
      inFlight = undefined;
      // These writes arrived during the last transaction and have waited long enough.
      if (queue.length > 0) startBatch();
    });
    inFlight = { size: batch.length, done };
  }

  /** Never rejects: every outcome is delivered to the batch's own promises. */
  async function runBatch(batch: readonly Pending[]): Promise<void> {
    counts.largestBatch = Math.max(counts.largestBatch, batch.length);
    for (let attempt = 0; ; attempt++) {
      try {
        const results = await commitOutcomeBatch(
          knex,
          batch.map((p) => p.input),
        );
        counts.batches++;
        results.forEach((result, i) => {
          const pending = batch[i]!;
          if (result.ok) {
            counts.rows++;
            if (result.record.duplicate) counts.duplicates++;
            else counts.inserted++;
            pending.resolve(result.record);
          } else {
            counts.rejected++;
            pending.reject(result.error);
          }
        });
        return;
      } catch (err) {
        const code = pgCode(err);
        if (code !== undefined && TRANSIENT.has(code) && attempt < maxRetries) {
          counts.retries++;
          // A short random pause, so two writers that deadlocked on each other do not collide again.
          await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
          continue;
        }
        counts.failedBatches++;
        counts.rejected += batch.length;
        // The cause keeps the driver's error for diagnosis; the message stays free of row data.
        const error = new DbError(
          'WRITE_FAILED',
          `outcome batch of ${batch.length} rolled back${code ? ` (SQLSTATE ${code})` : ''}`,
          { pgCode: code, batchSize: batch.length },
          { cause: err },
        );
        for (const pending of batch) pending.reject(error);
        return;
      }
    }
  }

  async function flush(): Promise<void> {
    while (queue.length > 0 || inFlight !== undefined) {
      if (inFlight === undefined) startBatch();
      await inFlight?.done;
    }
  }

  return {
    write(input) {
      if (closed) {
        counts.rejected++;
        return Promise.reject(new DbError('WRITER_CLOSED'));
      }
      let valid: ValidOutcome;
      try {
        valid = parseInput(outcomeInputSchema, input, 'outcome');
      } catch (err) {
        counts.rejected++;
        return Promise.reject(err instanceof Error ? err : new DbError('INPUT_INVALID'));
      }
      return new Promise<OutcomeRecord>((resolve, reject) => {
        queue.push({ input: valid, resolve, reject });
        schedule();
      });
    },

    flush,

    async close() {
      closed = true;
      await flush();
    },

    stats() {
      return { ...counts, pending: queue.length, inFlight: inFlight?.size ?? 0 };
    },
  };
}
