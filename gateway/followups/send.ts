// Sending one follow-up: decided once, in this order, then recorded. The lead must exist; the
// template must be one of its campaign's; a number on the do-not-call list gets
// nothing on any channel (an opt-out on any channel lists it for all); a marketing campaign needs
// live consent of the number on the follow-up's own channel (the consent ledger). Then the text is
// rendered from the lead and recorded with its metadata: an SMS as pending in the outbox (the
// worker sends it), a WhatsApp message as handed over, with the click-to-chat link for the device.
import type { Database } from '../../db/index.js';
import type { Followup } from '../../db/privacy/index.js';
import { GatewayError } from '../errors.js';
import { renderTemplate, whatsappLink } from './render.js';

export interface FollowupRequest {
  readonly leadId: string;
  readonly templateId: string;
  /** The call attempt it follows; an agent may only follow up their own calls. */
  readonly leaseId?: string;
}

export interface Sender {
  /** Who asks: a user id or key id for the record, and the agent id when the caller is an agent. */
  readonly actor: string;
  readonly agentId: string | null;
}

export interface SentFollowup {
  readonly followUp: Followup;
  /** WhatsApp only: open it on the device to send the message from the agent's WhatsApp. */
  readonly link: string | null;
}

export interface FollowupSenderDeps {
  readonly db: Database;
  readonly now: () => number;
  /** False when no SMS provider is configured: SMS follow-ups are refused, not queued for ever. */
  readonly smsEnabled: boolean;
}

export async function sendFollowup(
  deps: FollowupSenderDeps,
  tenantId: string,
  req: FollowupRequest,
  sender: Sender,
): Promise<SentFollowup> {
  const { db } = deps;
  const lead = await db.leads.get(tenantId, req.leadId);
  // A lead out of the queue (final, or removed) may still be followed up: the call happened. What
  // stops it is the person's objection (below), not the lead's status.
  if (!lead) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
  if (req.leaseId !== undefined) {
    const attempt = await db.privacy.followups.attemptAgent(tenantId, req.leadId, req.leaseId);
    if (!attempt) throw new GatewayError('NOT_FOUND', 'no call attempt of this lead under that lease id');
    if (sender.agentId !== null && attempt.agentId !== sender.agentId)
      throw new GatewayError('FORBIDDEN', 'an agent may only follow up their own calls');
  } else if (sender.agentId !== null) {
    throw new GatewayError('FORBIDDEN', 'an agent names the call the follow-up is for (leaseId)');
  }
  const template = await db.privacy.followups.template(tenantId, lead.campaignId, req.templateId);
  if (!template) throw new GatewayError('NOT_FOUND', "no such template in the lead's campaign");
  if (template.channel === 'sms' && !deps.smsEnabled)
    throw new GatewayError('UNAVAILABLE', 'no SMS provider is configured (SMS_HTTP_URL)');
  if (await db.dnc.has(tenantId, lead.phone)) throw new GatewayError('NUMBER_SUPPRESSED');
  const { consent, keys } = db.privacy;
  const settings = await consent.campaignSettings(tenantId, lead.campaignId);
  if (settings.kind === 'marketing') {
    const hash = (await keys.hashesOf(tenantId, [lead.phone])).get(lead.phone)!;
    const live = await consent.liveFor(tenantId, [hash], template.channel, deps.now());
    if (!live.get(hash.toString('hex'))?.live)
      throw new GatewayError('CONSENT_REQUIRED', `no live ${template.channel} consent for this number`);
  }
  const body = renderTemplate(template.body, lead);
  const followUp = await db.privacy.followups.create(
    tenantId,
    {
      campaignId: lead.campaignId,
      leadId: req.leadId,
      leaseId: req.leaseId ?? null,
      templateId: template.id,
      channel: template.channel,
      body,
      createdBy: sender.actor,
    },
    deps.now(),
  );
  return { followUp, link: template.channel === 'whatsapp' ? whatsappLink(lead.phone, body) : null };
}
