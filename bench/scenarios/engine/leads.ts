// The "standard lead" every engine measurement uses, so throughput, latency and memory figures
// describe the same thing: a UK mobile number, a 20-character name, one IANA zone, no custom
// fields, default priority. Ids and numbers count up from `first`, so they are unique within a
// campaign and a refill can continue where the first load stopped.
import type { LeadInput } from '../../../engine/lead.js';

/** The first number; lead i dials +447700900000 + i (Ofcom's drama range and above). */
const FIRST_NUMBER = 447_700_900_000;

export const STANDARD_LEAD = {
  phone: `+${FIRST_NUMBER} + i`,
  name: '20 characters',
  timeZone: 'Europe/London',
  id: "'L' + 9 digits",
  fields: 'none',
} as const;

export function standardLead(i: number): LeadInput {
  const n = String(i).padStart(9, '0');
  return {
    id: `L${n}`,
    phone: `+${FIRST_NUMBER + i}`,
    name: `Lead Person ${n.slice(1)}`, // 12 + 8 = 20 characters
    timeZone: 'Europe/London',
  };
}

/** Leads first .. first+count-1. */
export function standardLeads(first: number, count: number): LeadInput[] {
  return Array.from({ length: count }, (_, k) => standardLead(first + k));
}
