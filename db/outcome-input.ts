// What a completed call writes: the input schema of the outcome writer. Everything is checked
// here, before a write joins a batch, so a malformed input is rejected alone and can never fail
// the transaction it would have shared with other agents' completions. That includes what
// Postgres itself would refuse mid-transaction: NUL characters and unpaired surrogates in any
// text or JSON, and numbers outside the column types.
import { z } from 'zod';
import type { Disposition } from '../engine/disposition.js';
import { outcomeCodeSchema } from '../engine/disposition.js';
import { agentIdSchema, campaignIdSchema, deviceIdSchema, tenantIdSchema } from '../engine/ids.js';
import { dbLeadIdSchema, isStorableJson, PHONE_E164, storableText } from './validate.js';

const epochMs = z.number().int().min(0).max(8.64e15);

export const dispositionSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('final') }),
  z.object({ kind: z.literal('exhausted') }),
  z.object({ kind: z.literal('dnc') }),
  z.object({ kind: z.literal('retry'), dueAt: epochMs }),
  z.object({ kind: z.literal('callback'), dueAt: epochMs, pinnedAgentId: agentIdSchema.nullable() }),
]);

const MAX_FOLLOW_UP_JSON = 16_384;

export const outcomeInputSchema = z.object({
  tenantId: tenantIdSchema,
  campaignId: campaignIdSchema,
  /** The lead's Postgres id, as the engine carries it (a decimal string). */
  leadId: dbLeadIdSchema,
  /** The engine's lease id (engine/lease.ts), unique within a tenant for its whole life. */
  leaseId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be a lease id'),
  agentId: agentIdSchema,
  deviceId: deviceIdSchema,
  outcome: outcomeCodeSchema,
  /** Where the engine sent the lead (decided atomically with the lease; stored as given). */
  disposition: dispositionSchema,
  /** Attempts the lead has had, this one included. */
  attempts: z.number().int().min(1).max(100_000),
  /** The lease had expired before the completion arrived (the call still happened). */
  late: z.boolean(),
  durationSec: z
    .number()
    .int()
    .min(0)
    .max(7 * 86_400),
  notes: storableText(10_000).optional(),
  tags: z.array(storableText(64).min(1)).max(32).optional(),
  /** The callback the device asked for (the disposition holds the one the engine scheduled). */
  callback: z.object({ at: epochMs, scope: z.enum(['agent', 'anyone']) }).optional(),
  followUp: z
    .record(z.string(), z.unknown())
    .refine(isStorableJson, 'must not contain NUL or unpaired surrogates')
    .refine(
      (f) => JSON.stringify(f).length <= MAX_FOLLOW_UP_JSON,
      `must be at most ${MAX_FOLLOW_UP_JSON} bytes as JSON`,
    )
    .optional(),
  /** Epoch ms the device finished the call (the engine's clock at completion). */
  completedAt: epochMs,
  /** The dialled number when the outcome adds it to the do-not-call list. */
  dncPhone: z.string().regex(PHONE_E164, 'must be E.164').nullable().optional(),
});

export type OutcomeInput = z.input<typeof outcomeInputSchema>;
export type ValidOutcome = z.output<typeof outcomeInputSchema>;

// The engine's Disposition must be a valid input as is, so the gateway can pass it straight on.
type Expect<T extends true> = T;
type _EngineDispositionFits = Expect<
  [Disposition] extends [z.input<typeof dispositionSchema>] ? true : false
>;
