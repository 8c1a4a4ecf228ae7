// The admin API as an OpenAPI 3.1 document, generated from the same zod schemas the routes parse
// their paths, queries and bodies with (nothing typed twice). Served at /api/v1/openapi.json; a
// test checks every operation answers and every schema reference resolves.
import { extendZodWithOpenApi, OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { agentIdSchema, campaignIdSchema, deviceIdSchema } from '../../engine/ids.js';
import { apiKeyIdSchema } from '../../db/index.js';
import type { Role } from '../auth/access-token.js';
import { WIRE_ERROR_CODES } from '../protocol/errors.js';
import {
  agentBodySchema,
  assignmentsBodySchema,
  campaignBodySchema,
  dncBodySchema,
  leadsBodySchema,
  tenantBodySchema,
} from './admin-routes.js';
import { apiKeyBodySchema } from './api-key-routes.js';
import { campaignPatchBodySchema, campaignViewSchema } from './campaign-routes.js';
import {
  DNC_CSV_TYPES,
  dncAddResponseSchema,
  dncCheckResponseSchema,
  dncImportQuerySchema,
  dncImportResponseSchema,
  dncRemoveResponseSchema,
} from './dnc-routes.js';
import {
  importListQuerySchema,
  importParams,
  importPreviewSchema,
  importQuerySchema,
  rejectsQuerySchema,
} from './import-routes.js';
import { deviceLoginBodySchema, loginBodySchema, refreshBodySchema } from './auth-routes.js';
import { devicePatchBodySchema, deviceRegisterBodySchema } from './device-routes.js';
import {
  leadPatchBodySchema,
  leadReadResponseSchema,
  leadRemoveResponseSchema,
  leadResponseSchema,
} from './lead-routes.js';
import {
  callbackCreateBodySchema,
  callbackListParams,
  callbackListQuerySchema,
  callbackMoveBodySchema,
  callbackPageSchema,
  callbackParams,
  callbackResponseSchema,
} from './callback-routes.js';
import { attemptReportQuerySchema, totalsQuerySchema, totalsResponseSchema } from './report-routes.js';
import {
  campaignListQuerySchema,
  campaignParams,
  dncParams,
  leadListQuerySchema,
  leadParams,
  tenantParams,
} from './read-routes.js';
import { newUserBodySchema, pageQuerySchema, userPatchBodySchema } from './user-routes.js';
import {
  wallboardLinkBodySchema,
  wallboardLinkListQuerySchema,
  wallboardLinkParams,
  wallboardSettingsBodySchema,
  wallboardTenantParams,
} from '../supervisor/wallboard-routes.js';
import {
  accessBodySchema,
  erasureBodySchema,
  rectificationBodySchema,
  rightsRequestQuerySchema,
} from '../privacy/routes.js';
import { PRIVACY_OPERATIONS } from '../privacy/openapi-ops.js';
import { RULE_PACK_OPERATIONS } from './rule-pack-routes.js';

// The library's documented set-up: adds .openapi() to zod schemas (metadata only).
extendZodWithOpenApi(z);

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface Operation {
  readonly method: Method;
  /** Express form: `/tenants/:tenantId`. */
  readonly path: string;
  readonly summary: string;
  /** Who may: roles of the tenant, 'operator', or 'public'. */
  readonly who: readonly (Role | 'operator' | 'public')[];
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Content types of the body (application/json unless said). */
  readonly bodyTypes?: readonly string[];
  /** Status of success (200 unless said). */
  readonly status?: number;
  /** The success body's schema (a loose object unless said). */
  readonly response?: z.ZodType;
}

const T = '/tenants/:tenantId';
/** A CSV file: the raw body (text/csv), or multipart/form-data with the file in a part named `file`. */
const csvUploadSchema = z.string().openapi({ format: 'binary', description: 'The CSV file' });
const ADMINS = ['owner', 'admin'] as const;
const SUPERVISORS = ['owner', 'admin', 'supervisor'] as const;
const userParams = tenantParams.extend({ userId: agentIdSchema });
const deviceParams = tenantParams.extend({ deviceId: deviceIdSchema });
const keyParams = tenantParams.extend({ keyId: apiKeyIdSchema });
const agentParams = tenantParams.extend({ agentId: agentIdSchema });
const campaignPathParams = tenantParams.extend({ campaignId: campaignIdSchema });

/** Every operation of /api/v1 but the AsyncAPI and OpenAPI documents themselves. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: 'post',
    path: '/auth/login',
    summary: 'Log in: access and refresh tokens',
    who: ['public'],
    body: loginBodySchema,
  },
  {
    method: 'post',
    path: '/auth/device-login',
    summary: 'Log in from a device: registers it, answers a device token and a refresh token',
    who: ['public'],
    body: deviceLoginBodySchema,
  },
  {
    method: 'post',
    path: '/auth/refresh',
    summary: 'Rotate a refresh token',
    who: ['public'],
    body: refreshBodySchema,
  },
  {
    method: 'post',
    path: '/auth/logout',
    summary: 'End the session (bearer access token, or a device refresh token in the body)',
    who: ['public'],
    status: 204,
  },
  { method: 'get', path: '/tenants', summary: 'List tenants', who: ['operator'], query: pageQuerySchema },
  {
    method: 'put',
    path: T,
    summary: 'Create a tenant',
    who: ['operator'],
    params: tenantParams,
    body: tenantBodySchema,
    status: 201,
  },
  {
    method: 'get',
    path: T,
    summary: 'Read a tenant',
    who: ['operator', 'owner', 'admin', 'supervisor', 'agent'],
    params: tenantParams,
  },
  {
    method: 'post',
    path: `${T}/users`,
    summary: "Create a user (the operator: the tenant's first owner only)",
    who: ['operator', ...ADMINS],
    params: tenantParams,
    body: newUserBodySchema,
    status: 201,
  },
  {
    method: 'get',
    path: `${T}/users`,
    summary: 'List users',
    who: ADMINS,
    params: tenantParams,
    query: pageQuerySchema,
  },
  { method: 'get', path: `${T}/users/:userId`, summary: 'Read a user', who: ADMINS, params: userParams },
  {
    method: 'patch',
    path: `${T}/users/:userId`,
    summary: 'Change a user',
    who: ADMINS,
    params: userParams,
    body: userPatchBodySchema,
  },
  {
    method: 'delete',
    path: `${T}/users/:userId`,
    summary: 'Delete a user (disconnects their devices)',
    who: ADMINS,
    params: userParams,
    status: 204,
  },
  {
    method: 'put',
    path: `${T}/agents/:agentId`,
    summary: 'Create an agent without a login',
    who: ADMINS,
    params: agentParams,
    body: agentBodySchema,
    status: 201,
  },
  {
    method: 'get',
    path: `${T}/devices`,
    summary: 'List devices',
    who: SUPERVISORS,
    params: tenantParams,
    query: pageQuerySchema,
  },
  {
    method: 'get',
    path: `${T}/devices/:deviceId`,
    summary: 'Read a device',
    who: SUPERVISORS,
    params: deviceParams,
  },
  {
    method: 'put',
    path: `${T}/devices/:deviceId`,
    summary: 'Register a device for an agent (answers its tokens once)',
    who: ADMINS,
    params: deviceParams,
    body: deviceRegisterBodySchema,
  },
  {
    method: 'patch',
    path: `${T}/devices/:deviceId`,
    summary: 'Rename a device',
    who: ADMINS,
    params: deviceParams,
    body: devicePatchBodySchema,
  },
  {
    method: 'delete',
    path: `${T}/devices/:deviceId`,
    summary: 'Revoke a device (disconnects it)',
    who: ADMINS,
    params: deviceParams,
    status: 204,
  },
  {
    method: 'post',
    path: `${T}/api-keys`,
    summary: 'Create an API key (answers it once)',
    who: ADMINS,
    params: tenantParams,
    body: apiKeyBodySchema,
    status: 201,
  },
  { method: 'get', path: `${T}/api-keys`, summary: 'List API keys', who: ADMINS, params: tenantParams },
  {
    method: 'delete',
    path: `${T}/api-keys/:keyId`,
    summary: 'Revoke an API key',
    who: ADMINS,
    params: keyParams,
    status: 204,
  },
  {
    method: 'get',
    path: `${T}/campaigns`,
    summary: 'List campaigns',
    who: SUPERVISORS,
    params: tenantParams,
    query: campaignListQuerySchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId`,
    summary: 'Read a campaign',
    who: SUPERVISORS,
    params: campaignParams,
  },
  {
    method: 'put',
    path: `${T}/campaigns/:campaignId`,
    summary: 'Create or replace a campaign (status, calling window, dispositions)',
    who: ADMINS,
    params: campaignPathParams,
    body: campaignBodySchema,
    response: campaignViewSchema,
  },
  {
    method: 'patch',
    path: `${T}/campaigns/:campaignId`,
    summary:
      'Change some of a campaign (name, status active/paused/archived, calling window, dispositions); every gateway follows at once',
    who: ADMINS,
    params: campaignPathParams,
    body: campaignPatchBodySchema,
    response: campaignViewSchema,
  },
  {
    method: 'delete',
    path: `${T}/campaigns/:campaignId`,
    summary:
      'Archive a campaign: nothing more is offered, its queued leads leave Redis, its rows and call history stay readable',
    who: ADMINS,
    params: campaignPathParams,
    response: campaignViewSchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/agents`,
    summary: 'Agents assigned to a campaign',
    who: SUPERVISORS,
    params: campaignPathParams,
  },
  {
    method: 'put',
    path: `${T}/campaigns/:campaignId/agents`,
    summary: 'Assign agents to a campaign',
    who: ADMINS,
    params: campaignPathParams,
    body: assignmentsBodySchema,
  },
  {
    method: 'post',
    path: `${T}/campaigns/:campaignId/leads`,
    summary:
      'Add leads (one result per row); a lead gives phone (and timeZone), or its numbers in phones, tried in that order, each with its own zones',
    who: ADMINS,
    params: campaignPathParams,
    body: leadsBodySchema,
  },
  {
    method: 'post',
    path: `${T}/campaigns/:campaignId/imports`,
    summary:
      'Import leads from a CSV file (the raw body, or a multipart part named file), streamed; answers the import record with its counts once every row is accounted for',
    who: ADMINS,
    params: campaignPathParams,
    query: importQuerySchema,
    body: csvUploadSchema,
    bodyTypes: ['text/csv', 'multipart/form-data'],
    status: 201,
  },
  {
    method: 'post',
    path: `${T}/campaigns/:campaignId/imports/preview`,
    summary:
      'Preview a CSV import: reads the first 256 KB only, imports nothing, answers the encoding, separator, header, mapping (given or guessed) and the first 20 data rows as the import would read them',
    who: ADMINS,
    params: campaignPathParams,
    query: importQuerySchema,
    body: csvUploadSchema,
    bodyTypes: ['text/csv', 'multipart/form-data'],
    response: importPreviewSchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/imports`,
    summary: "A campaign's imports, newest first",
    who: ADMINS,
    params: campaignPathParams,
    query: importListQuerySchema,
  },
  {
    method: 'get',
    path: `${T}/imports/:importId`,
    summary: 'An import and its counts (poll it while the file streams in)',
    who: ADMINS,
    params: importParams,
  },
  {
    method: 'get',
    path: `${T}/imports/:importId/rejects`,
    summary:
      "An import's rejects (row, column, code, severity, detail, value): JSON pages, or format=csv to download",
    who: ADMINS,
    params: importParams,
    query: rejectsQuerySchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/leads`,
    summary: 'List leads',
    who: ADMINS,
    params: campaignParams,
    query: leadListQuerySchema,
  },
  {
    method: 'post',
    path: `${T}/campaigns/:campaignId/rebuild`,
    summary: 'Rebuild the queue from Postgres',
    who: ADMINS,
    params: campaignPathParams,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/stats`,
    summary: 'Queue and lead counts',
    who: SUPERVISORS,
    params: campaignPathParams,
  },
  {
    method: 'get',
    path: `${T}/leads/:leadId`,
    summary: 'Read a lead (its status, its numbers and the one dialled now) and its attempts',
    who: ADMINS,
    params: leadParams,
    response: leadReadResponseSchema,
  },
  {
    method: 'patch',
    path: `${T}/leads/:leadId`,
    summary:
      'Edit a queued lead (name, fields, number, time zone), replace its whole list of numbers (phones, on its own: the first is dialled now) or re-prioritize it (priority, due time); Postgres and the queue change together; LEAD_BUSY while it is on a call',
    who: ADMINS,
    params: leadParams,
    body: leadPatchBodySchema,
    response: leadResponseSchema,
  },
  {
    method: 'delete',
    path: `${T}/leads/:leadId`,
    summary:
      'Remove a queued lead: out of the queue (a call in progress is revoked for routing, its outcome still saved); its row and history stay',
    who: ADMINS,
    params: leadParams,
    response: leadRemoveResponseSchema,
  },
  {
    method: 'get',
    path: `${T}/campaigns/:campaignId/callbacks`,
    summary:
      "A campaign's pending callbacks in due order: when=due (due now), upcoming, or all; by agent; paged",
    who: SUPERVISORS,
    params: callbackListParams,
    query: callbackListQuerySchema,
    response: callbackPageSchema,
  },
  {
    method: 'post',
    path: `${T}/campaigns/:campaignId/callbacks`,
    summary:
      'Schedule a callback for a queued lead at a time, for one agent only or anyone (a pending one it had is cancelled); LEAD_BUSY while it is on a call',
    who: SUPERVISORS,
    params: callbackListParams,
    body: callbackCreateBodySchema,
    status: 201,
    response: callbackResponseSchema,
  },
  {
    method: 'get',
    path: `${T}/callbacks/:callbackId`,
    summary: 'Read a callback (pending, done or cancelled)',
    who: SUPERVISORS,
    params: callbackParams,
    response: callbackResponseSchema,
  },
  {
    method: 'patch',
    path: `${T}/callbacks/:callbackId`,
    summary:
      'Move a pending callback to another time, another agent, or (agentId null) anyone; LEAD_BUSY while its lead is on a call',
    who: SUPERVISORS,
    params: callbackParams,
    body: callbackMoveBodySchema,
    response: callbackResponseSchema,
  },
  {
    method: 'delete',
    path: `${T}/callbacks/:callbackId`,
    summary: 'Cancel a pending callback: its lead stays queued, due now for anyone',
    who: SUPERVISORS,
    params: callbackParams,
    response: callbackResponseSchema,
  },
  {
    method: 'get',
    path: `${T}/attempts`,
    summary:
      'Call attempts by completion time (from, to), campaign, agent or lead: JSON pages, or format=csv to download them all',
    who: SUPERVISORS,
    params: tenantParams,
    query: attemptReportQuerySchema,
  },
  {
    method: 'get',
    path: `${T}/reports/agents`,
    summary: 'Totals per agent over a range (default the last 30 days): calls, contacts, talk time, outcomes',
    who: SUPERVISORS,
    params: tenantParams,
    query: totalsQuerySchema,
    response: totalsResponseSchema,
  },
  {
    method: 'get',
    path: `${T}/reports/campaigns`,
    summary:
      'Totals per campaign over a range (default the last 30 days): calls, contacts, talk time, outcomes',
    who: SUPERVISORS,
    params: tenantParams,
    query: totalsQuerySchema,
    response: totalsResponseSchema,
  },
  {
    method: 'post',
    path: `${T}/dnc`,
    summary:
      "Put numbers on the do-not-call list (E.164 or national formats of the plan's default country, normalised as lead imports are); their queued leads are removed",
    who: ADMINS,
    params: tenantParams,
    body: dncBodySchema,
    response: dncAddResponseSchema,
  },
  {
    method: 'post',
    path: `${T}/dnc/imports`,
    summary:
      'Import do-not-call numbers from a CSV file (the raw body; one phone column): per-row counts and rejects',
    who: ADMINS,
    params: tenantParams,
    query: dncImportQuerySchema,
    body: csvUploadSchema,
    bodyTypes: DNC_CSV_TYPES,
    status: 201,
    response: dncImportResponseSchema,
  },
  {
    method: 'get',
    path: `${T}/dnc`,
    summary: 'List the do-not-call list',
    who: ADMINS,
    params: tenantParams,
    query: pageQuerySchema,
  },
  {
    method: 'get',
    path: `${T}/dnc/:phone`,
    summary: 'Is a number listed (normalised first)',
    who: ADMINS,
    params: dncParams,
    response: dncCheckResponseSchema,
  },
  {
    method: 'delete',
    path: `${T}/dnc/:phone`,
    summary:
      'Take a number off the do-not-call list (404 DNC_UNKNOWN when not listed); leads the listing removed stay removed',
    who: ADMINS,
    params: dncParams,
    response: dncRemoveResponseSchema,
  },
  {
    method: 'get',
    path: `${T}/audit`,
    summary: 'The audit log, newest first',
    who: ADMINS,
    params: tenantParams,
  },
  {
    method: 'get',
    path: `${T}/wallboard/settings`,
    summary: "The wallboard's time zone and time-in-state escalation thresholds",
    who: SUPERVISORS,
    params: wallboardTenantParams,
  },
  {
    method: 'put',
    path: `${T}/wallboard/settings`,
    summary:
      'Set the time zone ("calls today" starts at its midnight) and the [warn, alert] seconds per agent state',
    who: ADMINS,
    params: wallboardTenantParams,
    body: wallboardSettingsBodySchema,
  },
  {
    method: 'post',
    path: `${T}/wallboard/links`,
    summary: 'Create a read-only TV link for a wallboard screen: answers its token and path once',
    who: ADMINS,
    params: wallboardTenantParams,
    body: wallboardLinkBodySchema,
    status: 201,
  },
  {
    method: 'get',
    path: `${T}/wallboard/links`,
    summary: 'List TV links (never their tokens)',
    who: ADMINS,
    params: wallboardTenantParams,
    query: wallboardLinkListQuerySchema,
  },
  {
    method: 'delete',
    path: `${T}/wallboard/links/:linkId`,
    summary: 'Revoke a TV link: its screens are disconnected on every gateway within a second',
    who: ADMINS,
    params: wallboardLinkParams,
    status: 204,
  },
  {
    method: 'get',
    path: '/console/campaigns',
    summary:
      "The active campaigns of the device's tenant with their own outcome codes (the browser agent console; Authorization: Bearer <device token>)",
    who: ['agent'],
  },
  // Data-subject rights (gateway/privacy): the number is in the body, never the path.
  {
    method: 'post',
    path: `${T}/privacy/access`,
    summary:
      'Access and portability: everything held about a number (leads, attempts, notes, callbacks, do-not-call, erasure, requests, audit) as JSON or CSV; recorded as a rights request',
    who: ADMINS,
    params: tenantParams,
    body: accessBodySchema,
  },
  {
    method: 'post',
    path: `${T}/privacy/rectifications`,
    summary:
      'Rectification: correct the name or custom fields of every lead with a number (audited per lead; queued copies replaced; CONFLICT while one is on a call)',
    who: ADMINS,
    params: tenantParams,
    body: rectificationBodySchema,
  },
  {
    method: 'post',
    path: `${T}/privacy/erasures`,
    summary:
      'Erasure: delete every lead, attempt, note and callback of a number, take it out of every queue and live lease and the Redis streams; only a keyed hash stays, so imports refuse it',
    who: ADMINS,
    params: tenantParams,
    body: erasureBodySchema,
  },
  {
    method: 'get',
    path: `${T}/privacy/requests`,
    summary: 'The rights requests with their deadlines (one month); overdue=true lists the open ones past it',
    who: ADMINS,
    params: tenantParams,
    query: rightsRequestQuerySchema,
  },
  ...PRIVACY_OPERATIONS,
  ...RULE_PACK_OPERATIONS,
];

const errorSchema = z.object({
  error: z.object({
    code: z.enum(WIRE_ERROR_CODES as [string, ...string[]]),
    message: z.string(),
    retryable: z.boolean(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});

const openApiPath = (path: string) => `/api/v1${path.replace(/:([A-Za-z]+)/g, '{$1}')}`;

export function adminOpenApi(version: string): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.register('Error', errorSchema);
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An access token (POST /api/v1/auth/login), an API key (dhk_...), or the operator token',
  });
  for (const op of OPERATIONS) {
    const status = op.status ?? 200;
    registry.registerPath({
      method: op.method,
      path: openApiPath(op.path),
      summary: op.summary,
      description: `Who: ${op.who.join(', ')}.`,
      ...(op.who.includes('public') ? {} : { security: [{ bearer: [] }] }),
      request: {
        ...(op.params ? { params: op.params } : {}),
        ...(op.query ? { query: op.query } : {}),
        ...(op.body
          ? {
              body: {
                content: Object.fromEntries(
                  (op.bodyTypes ?? ['application/json']).map((type) => [type, { schema: op.body! }]),
                ),
              },
            }
          : {}),
      },
      responses: {
        [status]: {
          description: 'Done',
          ...(status === 204
            ? {}
            : { content: { 'application/json': { schema: op.response ?? z.looseObject({}) } } }),
        },
        default: {
          description: 'Every failure: one shape, a stable code',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'dialhub admin API', version },
    servers: [{ url: '/' }],
  }) as unknown as Record<string, unknown>;
}
