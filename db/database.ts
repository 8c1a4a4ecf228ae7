// The db component assembled: one knex pool, the repositories over it, the outcome writer, and
// the migrations. The gateway's composition root builds one of these (tests build their own,
// each in a private schema).
import knexFactory from 'knex';
import type { Knex } from 'knex';
import { createAdminReads } from './admin-reads.js';
import type { AdminReads } from './admin-reads.js';
import { createApiKeyRepository } from './api-keys.js';
import type { ApiKeyRepository } from './api-keys.js';
import { createAssignmentRepository } from './assignments.js';
import type { AssignmentRepository } from './assignments.js';
import { createAuditRepository } from './audit.js';
import type { AuditRepository } from './audit.js';
import { createCallbackRepository } from './callbacks.js';
import type { CallbackRepository } from './callbacks.js';
import { createCampaignRepository } from './campaigns.js';
import type { CampaignRepository } from './campaigns.js';
import { createDeviceRepository } from './devices.js';
import type { DeviceRepository } from './devices.js';
import { createDncRepository } from './dnc.js';
import type { DncRepository } from './dnc.js';
import { createImportRepository } from './imports.js';
import type { ImportRepository } from './imports.js';
import { createLeadRepository } from './leads.js';
import type { LeadRepository } from './leads.js';
import { migrateDown, migrateLatest } from './migrations/index.js';
import { createOutcomeRepository } from './outcomes.js';
import type { OutcomeRepository } from './outcomes.js';
import { createOutcomeWriter } from './outcome-writer.js';
import { createPrivacy } from './privacy/index.js';
import type { Privacy } from './privacy/index.js';
import type { OutcomeWriter, OutcomeWriterOptions } from './outcome-writer.js';
import { createSessionRepository } from './sessions.js';
import type { SessionRepository } from './sessions.js';
import { createTenantRepository } from './tenants.js';
import type { TenantRepository } from './tenants.js';
import { createUserRepository } from './users.js';
import type { UserRepository } from './users.js';

export interface DatabaseOptions {
  /** postgres://user@host:port/database (a real server, or startEmbeddedPostgres's url). */
  readonly url: string;
  /** Schema for our tables and the migrations table; the server's default when absent. */
  readonly searchPath?: string;
  /** Default { min: 0, max: 10 }. With embedded Postgres keep max at or below its maxConnections. */
  readonly pool?: { readonly min?: number; readonly max?: number };
  readonly outcomeWriter?: OutcomeWriterOptions;
}

export type Outcomes = OutcomeWriter & OutcomeRepository;

export interface Database {
  readonly knex: Knex;
  /** Apply pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /** Undo every migration (tests and tooling only). */
  migrateDown(): Promise<string[]>;
  readonly tenants: TenantRepository;
  readonly users: UserRepository;
  readonly devices: DeviceRepository;
  readonly sessions: SessionRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly assignments: AssignmentRepository;
  /** Paged reads for the admin API. */
  readonly reads: AdminReads;
  readonly campaigns: CampaignRepository;
  readonly leads: LeadRepository;
  /** Callbacks through the admin API: list, schedule, move, cancel. */
  readonly callbacks: CallbackRepository;
  /** CSV lead imports: job records and their rejects. */
  readonly imports: ImportRepository;
  readonly dnc: DncRepository;
  readonly audit: AuditRepository;
  /** Data-subject rights: erasure list, rights requests, erasure, rectification, access. */
  readonly privacy: Privacy;
  /** The outcome writer plus reads of the stored attempts. */
  readonly outcomes: Outcomes;
  /** Flush and close the outcome writer, then close the pool. */
  close(): Promise<void>;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function createDatabase(options: DatabaseOptions): Database {
  if (options.searchPath !== undefined && !SCHEMA_NAME.test(options.searchPath)) {
    throw new RangeError('searchPath must be a lower-case schema name');
  }
  const knex = knexFactory({
    client: 'pg',
    // Bounded waits: an unreachable or stalled Postgres fails a request (the device retries)
    // instead of holding it — and a claimed lease — without end. Connect within 5 s, a query
    // within 20 s, a pooled connection within 10 s.
    connection: { connectionString: options.url, connectionTimeoutMillis: 5_000, query_timeout: 20_000 },
    acquireConnectionTimeout: 10_000,
    pool: { min: options.pool?.min ?? 0, max: options.pool?.max ?? 10 },
    ...(options.searchPath === undefined ? {} : { searchPath: [options.searchPath] }),
  });
  const writer = createOutcomeWriter(knex, options.outcomeWriter);
  const attempts = createOutcomeRepository(knex);

  return {
    knex,
    migrate: () => migrateLatest(knex),
    migrateDown: () => migrateDown(knex),
    tenants: createTenantRepository(knex),
    users: createUserRepository(knex),
    devices: createDeviceRepository(knex),
    sessions: createSessionRepository(knex),
    apiKeys: createApiKeyRepository(knex),
    assignments: createAssignmentRepository(knex),
    reads: createAdminReads(knex),
    campaigns: createCampaignRepository(knex),
    leads: createLeadRepository(knex),
    callbacks: createCallbackRepository(knex),
    imports: createImportRepository(knex),
    dnc: createDncRepository(knex),
    audit: createAuditRepository(knex),
    privacy: createPrivacy(knex),
    outcomes: {
      ...writer,
      findByLeaseIds: (tenantId, leaseIds) => attempts.findByLeaseIds(tenantId, leaseIds),
      lookupLeases: (tenantId, leaseIds) => attempts.lookupLeases(tenantId, leaseIds),
      voidLeases: (tenantId, items) => attempts.voidLeases(tenantId, items),
      recentCalls: (tenantId, campaignId, sinceMs) => attempts.recentCalls(tenantId, campaignId, sinceMs),
    },
    async close() {
      await writer.close();
      await knex.destroy();
    },
  };
}
