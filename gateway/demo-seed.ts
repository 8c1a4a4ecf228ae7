// The demo tenant of the zero-setup mode, so a newcomer can connect a phone and take a call a
// minute after `npm start`: tenant `demo` (10 devices), an owner (owner@demo.example) and a
// supervisor (supervisor@demo.example) who log in with the demo password (derived from the
// server secret, so it differs per install and the banner can print it on every start),
// agents agent1 and agent2 with devices
// phone1 and phone2, campaign `demo` (every day 08:00-21:00 UK time, plus the outcomes `sale` and
// `not_interested`) and 50 leads. The numbers are fictional: Ofcom keeps +44 7700 900000-900999
// for drama and documentation, so no real person can be rung (ofcom.org.uk, "Telephone numbers
// for use in TV and radio drama programmes").
//
// Written straight to Postgres before the gateway starts; the gateway's start then builds the
// campaign's queue from Postgres, as it does after any restart. Each piece is created only when
// missing, so a seed interrupted half way is completed on the next start; a `demo` tenant that
// someone else created (another name) is left alone.
import type { CampaignConfigInput } from '../engine/campaign.js';
import { parseCampaignConfig } from '../engine/campaign.js';
import type { AgentId, DeviceId, TenantId } from '../engine/ids.js';
import { createHmac } from 'node:crypto';
import type { Database, NewLead, UserRole } from '../db/index.js';
import type { DeviceTokens } from './auth/device-token.js';
import { hashPassword, verifyPassword } from './auth/passwords.js';
import type { Logger } from './logger.js';
import type { Config } from './config.js';

export const DEMO_TENANT_ID = 'demo' as TenantId;
export const DEMO_CAMPAIGN_ID = 'demo';
const DEMO_TENANT_NAME = 'Demo company';
const DEMO_DEVICE_LIMIT = 10;
const DEMO_LEADS = 50;

const DEMO_AGENTS = [
  {
    agentId: 'agent1' as AgentId,
    name: 'Demo Agent One',
    deviceId: 'phone1' as DeviceId,
    label: 'Demo phone 1',
  },
  {
    agentId: 'agent2' as AgentId,
    name: 'Demo Agent Two',
    deviceId: 'phone2' as DeviceId,
    label: 'Demo phone 2',
  },
] as const;

const DEMO_USERS = [
  { id: 'owner' as AgentId, name: 'Demo Owner', email: 'owner@demo.example', role: 'owner' },
  {
    id: 'supervisor' as AgentId,
    name: 'Demo Supervisor',
    email: 'supervisor@demo.example',
    role: 'supervisor',
  },
] as const satisfies readonly { id: AgentId; name: string; email: string; role: UserRole }[];

/** The demo users' password: 20 characters derived from the server secret (stable per install). */
export function demoPasswordFrom(serverSecret: string): string {
  return createHmac('sha256', serverSecret)
    .update('dialhub demo password v1')
    .digest('base64url')
    .slice(0, 20);
}

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

export const DEMO_CAMPAIGN_CONFIG: CampaignConfigInput = {
  window: { rules: [{ days: EVERY_DAY, from: '08:00', to: '21:00' }] },
  dispositions: {
    sale: { final: true, contact: true },
    not_interested: { final: true },
  },
};

const FIRST = ['Alex', 'Sam', 'Jo', 'Chris', 'Robin', 'Charlie', 'Jamie', 'Morgan', 'Taylor', 'Casey'];
const LAST = ['Example', 'Sample', 'Placeholder', 'Fictional', 'Testcase'];

/** 50 leads on Ofcom's drama numbers +447700900100 to +447700900149, in London's time zone. */
export function demoLeads(): NewLead[] {
  return Array.from({ length: DEMO_LEADS }, (_, i) => ({
    phone: `+447700900${String(100 + i).padStart(3, '0')}`,
    name: `${FIRST[i % FIRST.length]!} ${LAST[Math.floor(i / FIRST.length) % LAST.length]!}`,
    timeZone: 'Europe/London',
    fields: { source: 'demo' },
  }));
}

export interface DemoDevice {
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  /** A fresh device token (tokens are signed, not stored: any number may be valid at once). */
  readonly token: string;
}

export interface DemoLogin {
  readonly email: string;
  readonly role: UserRole;
  readonly password: string;
}

export interface DemoSeed {
  /** True when this start created the demo data; false when it was already there. */
  readonly created: boolean;
  readonly tenantId: TenantId;
  readonly campaignId: string;
  readonly devices: readonly DemoDevice[];
  /** Demo users whose password is still the demo password (POST /api/v1/auth/login). */
  readonly logins: readonly DemoLogin[];
}

export interface DemoSeedDeps {
  readonly db: Database;
  readonly tokens: DeviceTokens;
  readonly logger: Logger;
  /** The demo users' password (demoPasswordFrom); without it no demo user is created. */
  readonly demoPassword?: string;
}

/** Seed what is missing and return the demo devices' credentials, or null if `demo` is not ours. */
export async function seedDemo({ db, tokens, logger, demoPassword }: DemoSeedDeps): Promise<DemoSeed | null> {
  const tenantId = DEMO_TENANT_ID;
  let created = false;
  const tenant = await db.tenants.get(tenantId);
  if (tenant && tenant.name !== DEMO_TENANT_NAME) {
    logger.info({ tenantId }, 'demo.skipped_foreign_tenant');
    return null;
  }
  if (!tenant) {
    await db.tenants.create({
      id: tenantId,
      name: DEMO_TENANT_NAME,
      plan: { deviceLimit: DEMO_DEVICE_LIMIT },
    });
    created = true;
  }
  for (const a of DEMO_AGENTS) {
    if (!(await db.users.get(tenantId, a.agentId))) {
      await db.users.create({ tenantId, id: a.agentId, name: a.name, role: 'agent' });
    }
    if (!(await db.devices.get(tenantId, a.deviceId))) {
      await db.devices.register({
        tenantId,
        id: a.deviceId,
        userId: a.agentId,
        label: a.label,
        platform: 'android',
      });
    }
  }
  const logins: DemoLogin[] = [];
  for (const u of demoPassword === undefined ? [] : DEMO_USERS) {
    const existing = await db.users.credentials(tenantId, u.id);
    if (!existing) {
      const passwordHash = await hashPassword(demoPassword!);
      await db.users.create({ tenantId, id: u.id, name: u.name, role: u.role, email: u.email, passwordHash });
      logins.push({ email: u.email, role: u.role, password: demoPassword! });
    } else if (existing.email === u.email && (await verifyPassword(existing.passwordHash, demoPassword!))) {
      // Only while it is still the demo password: a changed one is nobody's to print.
      logins.push({ email: u.email, role: existing.role, password: demoPassword! });
    }
  }
  if (!(await db.campaigns.get(tenantId, DEMO_CAMPAIGN_ID))) {
    await db.campaigns.upsert({
      tenantId,
      id: DEMO_CAMPAIGN_ID,
      name: 'Demo campaign',
      status: 'active',
      config: parseCampaignConfig(DEMO_CAMPAIGN_CONFIG),
    });
  }
  const counts = await db.leads.countByStatus(tenantId, DEMO_CAMPAIGN_ID);
  if (counts.queued + counts.final + counts.removed === 0) {
    await db.leads.insertBatch(tenantId, DEMO_CAMPAIGN_ID, demoLeads());
    created = true;
  }
  if (created) logger.info({ tenantId, campaignId: DEMO_CAMPAIGN_ID, leadCount: DEMO_LEADS }, 'demo.seeded');

  // Credentials only for demo devices still registered to their demo agent.
  const devices: DemoDevice[] = [];
  for (const a of DEMO_AGENTS) {
    const device = await db.devices.get(tenantId, a.deviceId);
    if (!device || device.revokedAt !== null || device.userId !== a.agentId) continue;
    devices.push({
      agentId: a.agentId,
      deviceId: a.deviceId,
      token: await tokens.issue({ tenantId, agentId: a.agentId, deviceId: a.deviceId }),
    });
  }
  return { created, tenantId, campaignId: DEMO_CAMPAIGN_ID, devices, logins };
}

/**
 * SEED_DEMO as set, else only in zero-setup mode on a new database: no tenant yet, or only the
 * demo tenant an earlier zero-setup start created (its seed is completed, its logins printed).
 * A production database (DATABASE_URL) never gets a demo tenant unless asked.
 */
export async function shouldSeedDemo(
  config: Pick<Config, 'SEED_DEMO' | 'DATABASE_URL'>,
  db: Database,
): Promise<boolean> {
  if (config.SEED_DEMO !== undefined) return config.SEED_DEMO;
  if (config.DATABASE_URL) return false;
  const { items } = await db.reads.tenants({ limit: 2 });
  return items.every((t) => t.id === DEMO_TENANT_ID);
}
