// Preparing an enqueue batch, shared by both stores: validate every lead before anything is
// written (one malformed lead refuses the whole batch, naming it), normalize zones to zone keys
// and compute the calling-window intervals of each distinct zone in the batch.
import { z } from 'zod';
import { computeWindow, zoneKey } from './calling-window.js';
import type { CallingWindow, ZoneKey } from './calling-window.js';
import { EngineError, isEngineError } from './errors.js';
import { leadInputSchema } from './lead.js';
import type { LeadInput, ValidLead } from './lead.js';

export interface PreparedLead {
  readonly lead: ValidLead;
  readonly phoneDigits: string;
  /** Index into `zones` (0-based). */
  readonly zoneRef: number;
  readonly fieldsJson: string;
}

export interface PreparedBatch {
  /** Distinct zone keys of the batch with their encoded windows. */
  readonly zones: readonly (readonly [ZoneKey, string])[];
  readonly leads: readonly PreparedLead[];
}

export const MAX_BATCH = 10_000;

export function prepareBatch(leads: readonly LeadInput[], window: CallingWindow, now: number): PreparedBatch {
  if (leads.length > MAX_BATCH) {
    throw new EngineError('LEAD_INVALID', `at most ${MAX_BATCH} leads per batch`, { count: leads.length });
  }
  const zoneIndex = new Map<ZoneKey, number>();
  const zones: [ZoneKey, string][] = [];
  const prepared: PreparedLead[] = [];
  leads.forEach((input, index) => {
    const parsed = leadInputSchema.safeParse(input);
    if (!parsed.success) {
      throw new EngineError('LEAD_INVALID', `lead ${index}: ${z.prettifyError(parsed.error)}`, {
        index,
        issues: parsed.error.issues,
      });
    }
    const lead = parsed.data;
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
      zones.push([key, computeWindow(window, key, now)]);
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
