// A stored lead (Postgres) as the queue takes it (engine LeadInput). Without `withDue`, no
// `dueAt` is given, so the queue's updateLead keeps the due time it holds (a retry's, a
// callback's); a lead queued afresh takes its stored due time with `withDue`. The queue keeps its
// own attempts on an update; an enqueue takes the stored ones.
import type { StoredLead } from '../../db/index.js';
import type { LeadInput } from '../../engine/lead.js';

export function leadInputOf(l: StoredLead, withDue = false): LeadInput {
  return {
    id: l.id,
    phone: l.phone,
    name: l.name,
    timeZone: l.timeZone,
    priority: l.priority,
    attempts: l.attempts,
    ...(withDue && l.dueAt !== null ? { dueAt: l.dueAt } : {}),
    ...(l.pinnedAgentId === null ? {} : { pinnedAgentId: l.pinnedAgentId }),
    fields: l.fields,
  };
}
