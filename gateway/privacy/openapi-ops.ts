// The privacy helper's operations for the admin API's OpenAPI document (gateway/http/openapi.ts
// appends them): "why not dialled?" and whatever else gateway/privacy and gateway/webhooks serve.
// Plain objects shaped as openapi.ts's Operation (not imported, so no import cycle).
import { campaignParams, leadParams, tenantParams } from '../http/read-routes.js';
import {
  deliveryParams,
  deliveryQuerySchema,
  endpointParams,
  webhookBodySchema,
  webhookPatchSchema,
} from '../webhooks/routes.js';
import {
  followupBodySchema,
  followupQuerySchema,
  templateBodySchema,
  templateParams,
} from '../followups/routes.js';
import {
  campaignPrivacyBodySchema,
  consentBodySchema,
  consentListBodySchema,
  consentWithdrawBodySchema,
} from './routes.js';

const T = '/tenants/:tenantId';
const ADMINS = ['owner', 'admin'] as const;
const SUPERVISORS = ['owner', 'admin', 'supervisor'] as const;
const EVERYONE = ['owner', 'admin', 'supervisor', 'agent'] as const;

export const PRIVACY_OPERATIONS = [
  {
    method: 'get',
    path: `${T}/leads/:leadId/explain`,
    summary:
      'Why not dialled? Each rule for the lead now (lead status, campaign status, do-not-call, erasure, consent, attempts, lease, due time, calling window per zone, queue), the first that holds it back, and nextDialableAt',
    who: SUPERVISORS,
    params: leadParams,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/explain`,
    summary:
      "The campaign's leads counted by the first rule that holds each back, and how many are dialable now",
    who: SUPERVISORS,
    params: campaignParams,
  },
  {
    method: 'post',
    path: `${T}/privacy/consents`,
    summary:
      'Record a consent for a number and channel (voice, sms, whatsapp): source, givenAt, expiresAt, evidenceRef; kept by keyed hash. Voice consent queues again the leads marketing campaigns held for lack of it',
    who: ADMINS,
    params: tenantParams,
    body: consentBodySchema,
    status: 201,
  },
  {
    method: 'post',
    path: `${T}/privacy/consents/withdraw`,
    summary:
      "An opt-out: withdraw every consent of the number on every channel and put it on the tenant's do-not-call list (out of every queue, live leases revoked)",
    who: ADMINS,
    params: tenantParams,
    body: consentWithdrawBodySchema,
  },
  {
    method: 'post',
    path: `${T}/privacy/consents/list`,
    summary: 'Every consent on record for the number, newest first, with live',
    who: ADMINS,
    params: tenantParams,
    body: consentListBodySchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/privacy`,
    summary: "The campaign's kind (service or marketing) and callback hand-over delay",
    who: SUPERVISORS,
    params: campaignParams,
  },
  {
    method: 'put',
    path: `${T}/campaigns/:campaignId/privacy`,
    summary:
      'Set the campaign kind (marketing: only numbers with live voice consent are offered) and callbackHandoverMin',
    who: ADMINS,
    params: campaignParams,
    body: campaignPrivacyBodySchema,
  },
  {
    method: 'post',
    path: `${T}/webhooks`,
    summary:
      'Add a webhook endpoint (url, events, description?, active?); answers the signing secret (Standard Webhooks, whsec_...) once',
    who: ADMINS,
    params: tenantParams,
    body: webhookBodySchema,
    status: 201,
  },
  {
    method: 'get',
    path: `${T}/webhooks`,
    summary: 'The webhook endpoints',
    who: ADMINS,
    params: tenantParams,
  },
  {
    method: 'get',
    path: `${T}/webhooks/:endpointId`,
    summary: 'One webhook endpoint',
    who: ADMINS,
    params: endpointParams,
  },
  {
    method: 'patch',
    path: `${T}/webhooks/:endpointId`,
    summary: "Change an endpoint's url, events, description or active flag",
    who: ADMINS,
    params: endpointParams,
    body: webhookPatchSchema,
  },
  {
    method: 'delete',
    path: `${T}/webhooks/:endpointId`,
    summary: 'Delete an endpoint and its deliveries',
    who: ADMINS,
    params: endpointParams,
    status: 204,
  },
  {
    method: 'get',
    path: `${T}/webhooks/:endpointId/deliveries`,
    summary: "The endpoint's deliveries with their log of tries (status, HTTP status, error, duration)",
    who: ADMINS,
    params: endpointParams,
    query: deliveryQuerySchema,
  },
  {
    method: 'post',
    path: `${T}/webhooks/:endpointId/deliveries/:deliveryId/replay`,
    summary: 'Deliver the same event to the endpoint again (a new delivery, same webhook-id)',
    who: ADMINS,
    params: deliveryParams,
    status: 202,
  },
  {
    method: 'put',
    path: `${T}/campaigns/:campaignId/followup-templates/:templateId`,
    summary:
      'Create or replace a follow-up template of the campaign: channel sms or whatsapp, body with {{name}}, {{firstName}}, {{fields.KEY}}',
    who: ADMINS,
    params: templateParams,
    body: templateBodySchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/followup-templates`,
    summary: "The campaign's follow-up templates",
    who: SUPERVISORS,
    params: campaignParams,
  },
  {
    method: 'delete',
    path: `${T}/campaigns/:campaignId/followup-templates/:templateId`,
    summary: 'Delete a follow-up template (follow-ups already made keep its id)',
    who: ADMINS,
    params: templateParams,
    status: 204,
  },
  {
    method: 'post',
    path: `${T}/followups`,
    summary:
      "Send a follow-up to a lead from one of its campaign's templates: refused on the do-not-call list, and without live consent on the channel for a marketing campaign; SMS goes to the outbox (pending), WhatsApp answers a click-to-chat link for the device. Agents only for their own calls (leaseId)",
    who: EVERYONE,
    params: tenantParams,
    body: followupBodySchema,
    status: 201,
  },
  {
    method: 'get',
    path: `${T}/followups`,
    summary: 'Follow-ups with their metadata (channel, template, time, status, attempt, tries), oldest first',
    who: SUPERVISORS,
    params: tenantParams,
    query: followupQuerySchema,
  },
] as const;
