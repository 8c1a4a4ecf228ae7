// The db component's public surface: Postgres as the system of record (migrations, repositories,
// the batched outcome writer) and embedded Postgres for the zero-setup mode. Everything else in
// db/ is private to it.
export type {
  AdminReads,
  AttemptView,
  CampaignView,
  DncView,
  LeadView,
  Page,
  PageRequest,
  TenantView,
} from './admin-reads.js';
export type { ApiKey, ApiKeyRepository, ApiKeyRole, ApiKeyWithHash, NewApiKey } from './api-keys.js';
export { API_KEY_ROLES, apiKeyIdSchema } from './api-keys.js';
export type { AssignmentRepository } from './assignments.js';
export type { AuditEntry, AuditEntryInput, AuditRepository } from './audit.js';
export type {
  ActiveCampaign,
  Campaign,
  CampaignInput,
  CampaignRepository,
  CampaignStatus,
} from './campaigns.js';
export { CAMPAIGN_STATUSES } from './campaigns.js';
export type { Database, DatabaseOptions, Outcomes } from './database.js';
export { createDatabase } from './database.js';
export type { Device, DevicePage, DeviceRepository, NewDevice } from './devices.js';
export type { DncRepository, DncSource } from './dnc.js';
export { DNC_SOURCES } from './dnc.js';
export type { EmbeddedPostgres, EmbeddedPostgresOptions } from './embedded-postgres.js';
export { startEmbeddedPostgres } from './embedded-postgres.js';
export type { DbErrorCode } from './errors.js';
export { DB_ERRORS, DbError, isDbError, LEAD_FIELDS_CONSTRAINT, pgCode, pgConstraint } from './errors.js';
export type {
  BatchScrub,
  ImportCounts,
  ImportJob,
  ImportReject,
  ImportRepository,
  ImportStatus,
} from './imports.js';
export { IMPORT_STATUSES, MAX_REJECT_VALUE, PreparedLeads } from './imports.js';
export type {
  AdvanceResult,
  FollowLead,
  NumberFollow,
  LeadEdit,
  LeadEditResult,
  LeadRepository,
  LeadStatus,
  NewLead,
  RemovedLead,
  StoredLead,
} from './leads.js';
export type {
  Callback,
  CallbackChange,
  CallbackPage,
  CallbackQuery,
  CallbackRepository,
  CallbackStatus,
  FollowQueue,
} from './callbacks.js';
export { CALLBACK_STATUSES } from './callbacks.js';
export { LEAD_STATUSES } from './leads.js';
export type { LeadNumber, LeadNumberInput, NumberColumns } from './lead-phones.js';
export { leadNumberSchema, MAX_LEAD_PHONES, numberColumns } from './lead-phones.js';
export { MIGRATIONS, migrateDown, migrateLatest } from './migrations/index.js';
export type { Migration } from './migrations/migration.js';
export type {
  ErasedRecords,
  Privacy,
  Rectification,
  RectifiedLead,
  RequestMeta,
  RightsRequest,
  RightsRequestKind,
  SubjectExport,
} from './privacy/index.js';
export {
  ERASED_MARK,
  EXPORT_CSV_COLUMNS,
  oneMonthAfter,
  rectificationSchema,
  RIGHTS_REQUEST_KINDS,
  RIGHTS_REQUEST_STATUSES,
  subjectExportCsv,
} from './privacy/index.js';
export type { OutcomeInput } from './outcome-input.js';
export { outcomeInputSchema } from './outcome-input.js';
export type {
  LeaseOnRecord,
  OutcomeRecord,
  OutcomeRepository,
  StoredOutcome,
  VoidInput,
} from './outcomes.js';
export { isVoided } from './outcomes.js';
export type { OutcomeWriter, OutcomeWriterOptions, OutcomeWriterStats } from './outcome-writer.js';
export { createOutcomeWriter } from './outcome-writer.js';
export type { NewTenant, Plan, Tenant, TenantRepository } from './tenants.js';
export type {
  NewSession,
  RotateResult,
  Session,
  SessionRepository,
  SessionRevokeReason,
} from './sessions.js';
export { SESSION_REVOKE_REASONS, sessionIdSchema } from './sessions.js';
export type {
  NewUser,
  User,
  UserCredentials,
  UserPage,
  UserPatch,
  UserRepository,
  UserRole,
} from './users.js';
export { emailSchema, USER_ROLES } from './users.js';
export type {
  CampaignCallFigures,
  StoredWallboardSettings,
  WallboardRepository,
  WallboardSettingsInput,
} from './wallboard.js';
export {
  createWallboardRepository,
  DEFAULT_THRESHOLDS,
  emptyCallFigures,
  wallboardSettingsSchema,
} from './wallboard.js';
export type { NewWallboardLink, WallboardLink, WallboardLinkRepository } from './wallboard-links.js';
export { createWallboardLinkRepository, wallboardLinkIdSchema } from './wallboard-links.js';
export type { ReportRange, ReportRow, Reports } from './reports.js';
export { createReports } from './reports.js';
export type {
  CampaignRuleLinks,
  RemoveResult,
  RulePackChange,
  RulePackPage,
  RulePackRepository,
  StoredRulePack,
} from './rule-packs.js';
export {
  createRulePackRepository,
  effectiveRules,
  MAX_CAMPAIGN_RULE_PACKS,
  rulePackIdSchema,
  UnknownRulePacks,
} from './rule-packs.js';
