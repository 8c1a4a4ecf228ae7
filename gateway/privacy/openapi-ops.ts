// The privacy helper's operations for the admin API's OpenAPI document (gateway/http/openapi.ts
// appends them): "why not dialled?" and whatever else gateway/privacy and gateway/webhooks serve.
// Plain objects shaped as openapi.ts's Operation (not imported, so no import cycle).
import { campaignParams, leadParams } from '../http/read-routes.js';

const T = '/tenants/:tenantId';
const ADMINS = ['owner', 'admin'] as const;
const SUPERVISORS = ['owner', 'admin', 'supervisor'] as const;

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
] as const;

export { ADMINS as PRIVACY_ADMINS };
