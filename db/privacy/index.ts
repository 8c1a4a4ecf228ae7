// Data-subject rights over the system of record: the keyed hash that stands for a number, the
// erasure list, the requests' record, and the erasure, rectification and access operations. The
// gateway (gateway/privacy) adds the queue side and the API.
import type { Knex } from 'knex';
import { z } from 'zod';
import { parseInput, PHONE_E164, tenantOf } from '../validate.js';
import { eraseNumber } from './erasure.js';
import type { ErasedRecords } from './erasure.js';
import { rectifyNumber } from './rectification.js';
import type { Rectification, RectifiedLead } from './rectification.js';
import { createConsentRepository } from '../consent.js';
import type { ConsentRepository } from '../consent.js';
import { createWebhookRepository } from '../webhooks.js';
import { createFollowupRepository } from '../followups.js';
import type { FollowupRepository } from '../followups.js';
import type { WebhookRepository } from '../webhooks.js';
import { createCallbackHandover } from './callback-handover.js';
import type { CallbackHandover, StrandedCallback } from './callback-handover.js';
import { createExplainFacts } from './explain-facts.js';
import { createRetention } from './retention.js';
import type { PurgeCounts, PurgeResult, Retention } from './retention.js';
import type { ExplainFacts, LeadFacts } from './explain-facts.js';
import { createRightsRequestRepository } from './rights-requests.js';
import type { RightsRequest, RightsRequestKind, RightsRequestRepository } from './rights-requests.js';
import { createSubjectKeys } from './subject-keys.js';
import type { SubjectKeys } from './subject-keys.js';
import { exportSubject } from './subject-export.js';
import type { SubjectExport } from './subject-export.js';
import { createSuppressionRepository } from './suppressions.js';
import type { SuppressionRepository } from './suppressions.js';

export type { CallbackHandover, StrandedCallback };
export type { ExplainFacts, LeadFacts, PurgeCounts, PurgeResult, Retention };
export { retentionPlanSchema } from './retention.js';
export type {
  CampaignKind,
  CampaignPrivacy,
  Consent,
  ConsentChannel,
  ConsentRepository,
  LiveConsent,
  NewConsent,
} from '../consent.js';
export { CAMPAIGN_KINDS, campaignPrivacySchema, CONSENT_CHANNELS } from '../consent.js';
export type {
  ClaimedDelivery,
  DeliveryResult,
  DeliveryStatus,
  EndpointInput,
  EndpointPatch,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookEventType,
  NewWebhookEvent,
  WebhookRepository,
} from '../webhooks.js';
export {
  DELIVERY_STATUSES,
  endpointInputSchema,
  endpointPatchSchema,
  WEBHOOK_EVENTS,
  webhookIdSchema,
} from '../webhooks.js';
export type { ErasedRecords, Rectification, RectifiedLead, RightsRequest, RightsRequestKind, SubjectExport };
export { ERASED_MARK } from './erasure.js';
export { rectificationSchema } from './rectification.js';
export { oneMonthAfter, RIGHTS_REQUEST_KINDS, RIGHTS_REQUEST_STATUSES } from './rights-requests.js';
export { EXPORT_CSV_COLUMNS, subjectExportCsv } from './subject-export.js';

export type {
  ClaimedSms,
  Followup,
  FollowupChannel,
  FollowupRepository,
  FollowupStatus,
  FollowupTemplate,
  NewFollowup,
  SmsResult,
  TemplateInput,
} from '../followups.js';
export {
  FOLLOWUP_CHANNELS,
  FOLLOWUP_STATUSES,
  followupIdSchema,
  TEMPLATE_VARIABLE,
  templateIdSchema,
  templateInputSchema,
} from '../followups.js';

export interface RequestMeta {
  /** Who entered the request (a user id, an API key id, 'operator'). */
  readonly actor: string;
  /** When the request reached the tenant (epoch ms); defaults to now. */
  readonly receivedAt?: number;
  readonly now: number;
}

export interface Privacy {
  readonly keys: SubjectKeys;
  readonly suppressions: SuppressionRepository;
  readonly requests: RightsRequestRepository;
  /** The consent ledger and each campaign's privacy settings (kind, callback hand-over). */
  readonly consent: ConsentRepository;
  /** Webhook endpoints, the outbox of events, deliveries and their log (db/webhooks.ts). */
  readonly webhooks: WebhookRepository;
  /** Follow-up templates and the follow-ups sent (SMS outbox, WhatsApp hand-overs). */
  readonly followups: FollowupRepository;
  /** The retention purge (plan.retentionDays), one runner per tenant at a time. */
  readonly retention: Retention;
  /** Agent-only callbacks whose agent does not take them move to anyone. */
  readonly callbacks: CallbackHandover;
  /** What "why not dialled?" reads from the system of record. */
  readonly explain: ExplainFacts;
  /**
   * Erase the number from Postgres (see erasure.ts), recording an open erasure request in the
   * same transaction; the caller completes it once the queue side is done too.
   */
  erase(
    tenantId: string,
    phone: string,
    meta: RequestMeta,
  ): Promise<{ request: RightsRequest; erased: ErasedRecords }>;
  /** Correct every lead of the number; the request is recorded completed in the same transaction. */
  rectify(
    tenantId: string,
    phone: string,
    changes: Rectification,
    meta: RequestMeta,
  ): Promise<{ request: RightsRequest; leads: RectifiedLead[] }>;
  /** The queued leads with this number, in every campaign of the tenant. */
  queuedLeadIds(tenantId: string, phone: string): Promise<{ leadId: string; campaignId: string }[]>;
  /** Everything held about the number; the access request is recorded completed. */
  access(tenantId: string, phone: string, meta: RequestMeta): Promise<SubjectExport>;
}

export function createPrivacy(knex: Knex): Privacy {
  const keys = createSubjectKeys(knex);
  const suppressions = createSuppressionRepository(knex, keys);
  const requests = createRightsRequestRepository(knex);

  return {
    keys,
    suppressions,
    requests,
    consent: createConsentRepository(knex),
    webhooks: createWebhookRepository(knex),
    followups: createFollowupRepository(knex),
    retention: createRetention(knex),
    callbacks: createCallbackHandover(knex),
    explain: createExplainFacts(knex, keys),

    async erase(tenantId, phone, meta) {
      const hash = await keys.hashOf(tenantId, phone);
      return knex.transaction(async (trx) => {
        const request = await requests.open(
          tenantId,
          { kind: 'erasure', subjectHash: hash, actor: meta.actor, receivedAt: meta.receivedAt ?? meta.now },
          trx,
        );
        const erased = await eraseNumber(trx, tenantId, phone, hash);
        return { request, erased };
      });
    },

    async rectify(tenantId, phone, changes, meta) {
      const hash = await keys.hashOf(tenantId, phone);
      return knex.transaction(async (trx) => {
        const leads = await rectifyNumber(trx, tenantId, phone, changes);
        const opened = await requests.open(
          tenantId,
          {
            kind: 'rectification',
            subjectHash: hash,
            actor: meta.actor,
            receivedAt: meta.receivedAt ?? meta.now,
          },
          trx,
        );
        const request = await requests.complete(
          tenantId,
          opened.id,
          meta.now,
          { leads: leads.length, changed: [...new Set(leads.flatMap((l) => l.changed))].sort() },
          trx,
        );
        return { request, leads };
      });
    },

    async queuedLeadIds(tenantId, phone) {
      const tenant = tenantOf(tenantId);
      const number = parseInput(z.string().regex(PHONE_E164), phone, 'phone');
      const rows = await knex('leads')
        .where({ tenant_id: tenant, status: 'queued' })
        .andWhere((q) => {
          void q
            .where('phone', number)
            .orWhereIn(
              'id',
              knex('lead_phones').select('lead_id').where({ tenant_id: tenant, phone: number }),
            );
        })
        .orderBy('id')
        .select<{ id: string; campaign_id: string }[]>('id', 'campaign_id');
      return rows.map((r) => ({ leadId: r.id, campaignId: r.campaign_id }));
    },

    async access(tenantId, phone, meta) {
      const hash = await keys.hashOf(tenantId, phone);
      const opened = await requests.open(tenantId, {
        kind: 'access',
        subjectHash: hash,
        actor: meta.actor,
        receivedAt: meta.receivedAt ?? meta.now,
      });
      const result = await exportSubject(knex, { keys, requests }, tenantId, phone, meta.now);
      await requests.complete(tenantId, opened.id, meta.now, {
        leads: result.leads.length,
        attempts: result.attempts.length,
      });
      return result;
    },
  };
}
