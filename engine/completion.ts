// The result of a completion as both stores record it: kept on the done lease so that a repeated
// completion returns the very same answer. "<outcome>|<attempts>|<disposition>|<lead id>|<late>".
import type { Completion } from './queue-store.js';
import type { Disposition } from './disposition.js';
import { decodeDisposition, encodeDisposition } from './disposition.js';
import type { LeadId } from './ids.js';
import type { LeaseId } from './lease.js';

export function encodeCompletionResult(
  outcome: string,
  attempts: number,
  disposition: Disposition,
  leadId: string,
  late: boolean,
): string {
  return `${outcome}|${attempts}|${encodeDisposition(disposition)}|${leadId}|${late ? 1 : 0}`;
}

export function decodeCompletionResult(
  leaseId: LeaseId,
  result: string,
  duplicate: boolean,
  dncDigits: string,
): Completion {
  const [outcome, attempts, disposition, leadId, late] = result.split('|');
  return {
    leaseId,
    leadId: leadId as LeadId,
    outcome: outcome!,
    attempts: Number(attempts),
    disposition: decodeDisposition(disposition!),
    duplicate,
    late: late === '1',
    dncPhone: dncDigits === '' ? null : `+${dncDigits}`,
  };
}
