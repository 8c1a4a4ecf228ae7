// The follow-up a device asks for in `call:complete` (`followUp: { channel, template }`), sent once
// the call's outcome is durable in Postgres, through the same path as POST /followups
// (send.ts: the campaign's template, the do-not-call list, channel consent for a marketing
// campaign, then the SMS outbox or a WhatsApp click-to-chat link), as the agent who made the call.
//
// Once per call: the follow-up is recorded against the call attempt's lease id with
// `createdBy: device:<deviceId>`, and a unique index (migration 0014) allows one such per lease
// id, so a retried completion (or two racing retries) answers the follow-up on record rather than
// sending another. What happened goes back in the completion's acknowledgement: the follow-up's
// status (and link), or `refused` with the error code and message; a refusal is never a failed
// completion (the outcome is saved). A retryable refusal (the database unreachable) is tried again
// by a retry of the same completion.
import type { Database } from '../../db/index.js';
import { pgCode } from '../../db/index.js';
import type { Followup } from '../../db/privacy/index.js';
import { GatewayError, toWireError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CompletionAckPayload } from '../protocol/schemas.js';
import { renderTemplate, whatsappLink } from './render.js';
import { sendFollowup } from './send.js';

export type FollowUpResult = NonNullable<CompletionAckPayload['followUp']>;

/** The completion's `followUp` as the device sent it. */
export interface CompletionFollowUp {
  readonly channel: 'sms' | 'email' | 'whatsapp';
  readonly template?: string | undefined;
  readonly body?: string | undefined;
}

/** The saved call the follow-up is for. */
export interface SavedCall {
  readonly tenantId: string;
  readonly agentId: string;
  readonly deviceId: string;
  readonly leadId: string;
  readonly leaseId: string;
}

export type CompletionFollowUps = (call: SavedCall, request: CompletionFollowUp) => Promise<FollowUpResult>;

export interface CompletionFollowUpDeps {
  readonly db: Database;
  readonly now: () => number;
  /** False when no SMS provider is configured (SMS_HTTP_URL): SMS follow-ups are refused. */
  readonly smsEnabled: boolean;
  readonly logger: Logger;
}

const DEVICE_ACTOR = 'device:';
const PG_UNIQUE_VIOLATION = '23505';

export function createCompletionFollowUps(deps: CompletionFollowUpDeps): CompletionFollowUps {
  const { db, logger } = deps;
  const repo = db.privacy.followups;

  /** The follow-up a completion of this call already made, if any. */
  async function onRecord(call: SavedCall): Promise<Followup | undefined> {
    const mine = await repo.list(call.tenantId, { leadId: call.leadId, limit: 500 });
    return mine.find((f) => f.leaseId === call.leaseId && f.createdBy.startsWith(DEVICE_ACTOR));
  }

  async function answerOf(call: SavedCall, f: Followup): Promise<FollowUpResult> {
    let link: string | undefined;
    if (f.channel === 'whatsapp') {
      // The link is not stored (it holds the number): made again from the lead and its template.
      const lead = await db.leads.get(call.tenantId, call.leadId);
      const template = lead && (await repo.template(call.tenantId, lead.campaignId, f.templateId));
      if (lead && template) link = whatsappLink(lead.phone, renderTemplate(template.body, lead));
    }
    return { status: f.status, channel: f.channel, followUpId: f.id, ...(link ? { link } : {}) };
  }

  const refused = (channel: FollowUpResult['channel'], err: unknown): FollowUpResult => {
    const w = toWireError(err);
    return { status: 'refused', channel, code: w.code, message: w.message, retryable: w.retryable };
  };

  return async (call, request) => {
    const { channel } = request;
    try {
      if (channel === 'email')
        throw new GatewayError('INPUT_INVALID', 'no e-mail channel: follow-ups go by SMS or WhatsApp');
      if (request.template === undefined)
        throw new GatewayError(
          'INPUT_INVALID',
          "a follow-up names one of the campaign's templates (template); free text is not sent",
        );
      const before = await onRecord(call);
      if (before) return await answerOf(call, before);
      const lead = await db.leads.get(call.tenantId, call.leadId);
      if (!lead) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
      const template = await repo.template(call.tenantId, lead.campaignId, request.template);
      if (template && template.channel !== channel)
        throw new GatewayError('INPUT_INVALID', `template ${template.id} is a ${template.channel} template`);
      try {
        const sent = await sendFollowup(
          deps,
          call.tenantId,
          { leadId: call.leadId, templateId: request.template, leaseId: call.leaseId },
          { actor: `${DEVICE_ACTOR}${call.deviceId}`, agentId: call.agentId },
        );
        logger.info(
          { tenantId: call.tenantId, leaseId: call.leaseId, followUpId: sent.followUp.id, channel },
          'followup.from_completion',
        );
        return {
          status: sent.followUp.status,
          channel: sent.followUp.channel,
          followUpId: sent.followUp.id,
          ...(sent.link ? { link: sent.link } : {}),
        };
      } catch (err) {
        // Two retries of one completion at once: the other one recorded it first.
        if (pgCode(err) === PG_UNIQUE_VIOLATION) {
          const other = await onRecord(call);
          if (other) return await answerOf(call, other);
        }
        throw err;
      }
    } catch (err) {
      const result = refused(channel, err);
      if (result.code === 'INTERNAL')
        logger.error({ err, leaseId: call.leaseId }, 'followup.from_completion_failed');
      else
        logger.info(
          { tenantId: call.tenantId, leaseId: call.leaseId, code: result.code },
          'followup.refused',
        );
      return result;
    }
  };
}
