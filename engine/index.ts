// The engine's public surface: queue semantics and nothing of HTTP, sockets or SQL.
export type { CampaignConfig, CampaignConfigInput } from './campaign.js';
export { campaignConfigSchema, parseCampaignConfig } from './campaign.js';
export type { CallingWindow, ZoneKey } from './calling-window.js';
export {
  ALWAYS_OPEN,
  callingWindowSchema,
  computeWindow,
  isOpenAt,
  isValidZone,
  nextOpening,
  UNKNOWN_ZONE,
  zoneKey,
  zonesOf,
} from './calling-window.js';
export type { Clock, ServerTime } from './clock.js';
export { ManualClock, ServerClock, systemClock } from './clock.js';
export type {
  CallbackRequest,
  Disposition,
  DispositionPolicy,
  DispositionPolicyInput,
  Dispositions,
  OutcomeCode,
  SystemOutcome,
} from './disposition.js';
export {
  dispositionPolicySchema,
  dispositionsSchema,
  outcomeCodeSchema,
  SYSTEM_DISPOSITIONS,
  SYSTEM_OUTCOMES,
} from './disposition.js';
export type { EngineErrorCode } from './errors.js';
export { ENGINE_ERRORS, EngineError, isEngineError } from './errors.js';
export type { AgentId, CampaignId, CampaignRef, DeviceId, LeadId, TenantId } from './ids.js';
export {
  agentIdSchema,
  asAgentId,
  asCampaignId,
  asDeviceId,
  asLeadId,
  asTenantId,
  campaignIdSchema,
  campaignRef,
  deviceIdSchema,
  leadIdSchema,
  tenantIdSchema,
} from './ids.js';
export type { LeadInput, QueuedLead } from './lead.js';
export { e164Schema, leadInputSchema, MAX_PRIORITY } from './lead.js';
export type { Lease, LeaseId, LeaseState } from './lease.js';
export { parseLeaseId } from './lease.js';
export type { Maintenance, MaintenanceOptions } from './maintenance.js';
export { startMaintenance } from './maintenance.js';
export type * from './queue-store.js';
export { MemoryQueueStore } from './memory/memory-queue-store.js';
export type { MemoryQueueStoreOptions } from './memory/memory-queue-store.js';
export { createRedisQueueStore, RedisQueueStore } from './redis/redis-queue-store.js';
export type { RedisQueueStoreOptions } from './redis/redis-queue-store.js';
