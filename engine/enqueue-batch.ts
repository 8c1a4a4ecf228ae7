// Preparing an enqueue batch, shared by both stores: validate every lead before anything is
// written (one malformed lead refuses the whole batch, naming it), normalize zones to zone keys
// and compute the calling-window intervals and rule limits of each distinct zone in the batch.
import { z } from 'zod';
import { computeZone, NO_RULES } from './calling-rules.js';
import type { CallingRules, ZonePlan } from './calling-rules.js';
import { zoneKey } from './calling-window.js';
import type { CallingWindow, ZoneKey } from './calling-window.js';
import { EngineError, isEngineError } from './errors.js';
import { leadInputSchema, plainLead } from './lead.js';
import type { LeadInput, ValidLead } from './lead.js';

export interface PreparedLead {
  readonly lead: ValidLead;
  readonly phoneDigits: string;
  /** Index into `zones` (0-based). */
  readonly zoneRef: number;
  readonly fieldsJson: string;
}

export interface PreparedBatch {
  /** Distinct zone keys of the batch with their encoded windows and limits. */
  readonly zones: readonly (readonly [ZoneKey, ZonePlan])[];
  readonly leads: readonly PreparedLead[];
}

export const MAX_BATCH = 10_000;

export function prepareBatch(
  leads: readonly LeadInput[],
  window: CallingWindow,
  now: number,
  rules: CallingRules = NO_RULES,
): PreparedBatch {
  if (leads.length > MAX_BATCH) {
    throw new EngineError('LEAD_INVALID', `at most ${MAX_BATCH} leads per batch`, { count: leads.length });
  }
  const zoneIndex = new Map<ZoneKey, number>();
  const zones: [ZoneKey, ZonePlan][] = [];
  const prepared: PreparedLead[] = [];
  leads.forEach((input, index) => {
    let lead = plainLead(input, true);
    if (!lead) {
      const parsed = leadInputSchema.safeParse(input);
      if (!parsed.success) {
        throw new EngineError('LEAD_INVALID', `lead ${index}: ${z.prettifyError(parsed.error)}`, {
          index,
          issues: parsed.error.issues,
        });
      }
      lead = parsed.data;
    }
    let key: ZoneKey;
    try {
      key = zoneKey(lead.timeZone);
    } catch (err) {
      if (isEngineError(err)) throw new EngineError(err.code, `lead ${index}: ${err.message}`, { index });
      throw err;
    }
    let zoneRef = zoneIndex.get(key);
    if (zoneRef === undefined) {
      zoneRef = zones.length;
      zoneIndex.set(key, zoneRef);
      zones.push([key, computeZone(window, rules, key, now)]);
    }
    prepared.push({
      lead,
      phoneDigits: lead.phone.slice(1),
      zoneRef,
      fieldsJson: lead.fields && Object.keys(lead.fields).length > 0 ? JSON.stringify(lead.fields) : '',
    });
  });
  return { zones, leads: prepared };
}
