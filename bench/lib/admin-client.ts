// The bench's only way into a dialhub's admin API (/api/v1), local or remote: creating the
// tenant, agents, devices, campaign and leads a run needs, and retiring the campaign afterwards.
// Credentials (gateway/http/access.ts): the operator's ADMIN_TOKEN only creates a tenant and its
// first owner, so `bootstrapTenant` does that with a random password, logs in as that owner
// (/api/v1/auth/login) and uses the owner's access token for everything inside the tenant.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export interface AdminCredential {
  /** The operator's bootstrap token (ADMIN_TOKEN). */
  readonly token: string;
}

/** The owner the bench creates in its own tenant (password random per run, never stored). */
const OWNER_ID = 'bench-owner';
const OWNER_EMAIL = 'bench-owner@bench.invalid';

export class AdminApiError extends Error {
  override readonly name = 'AdminApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const deviceReply = z.object({ token: z.string() });
const loginReply = z.object({ accessToken: z.string() }).loose();
const leadsReply = z.object({ queued: z.number() }).loose();
const errorReply = z.object({ error: z.object({ code: z.string(), message: z.string() }).loose() }).loose();

export interface FloorLead {
  readonly phone: string;
  readonly name: string;
  readonly timeZone: string;
}

export interface CampaignSpec {
  readonly name: string;
  readonly status: 'active' | 'paused' | 'archived';
  readonly window: unknown;
  readonly dispositions: Readonly<Record<string, unknown>>;
}

export class AdminClient {
  readonly #base: string;
  readonly #credential: AdminCredential;
  /** The tenant owner's access token once logged in; the operator token before. */
  #bearer: string;

  constructor(baseUrl: string, credential: AdminCredential) {
    this.#base = `${baseUrl.replace(/\/$/, '')}/api/v1`;
    this.#credential = credential;
    this.#bearer = credential.token;
  }

  #authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.#bearer}` };
  }

  async #send(method: 'PUT' | 'POST' | 'GET' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.#base}${path}`, {
      method,
      headers: {
        ...this.#authHeaders(),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json: unknown = text === '' ? null : JSON.parse(text);
    if (!res.ok) {
      const e = errorReply.safeParse(json);
      const code = e.success ? e.data.error.code : `HTTP_${res.status}`;
      const message = e.success ? e.data.error.message : text.slice(0, 200);
      throw new AdminApiError(res.status, code, `${method} ${path}: ${res.status} ${code} ${message}`);
    }
    return json;
  }

  /**
   * Create the run's tenant and its first owner with the operator token, then log in as that
   * owner: every later call acts inside the tenant with the owner's access token.
   */
  async bootstrapTenant(tenantId: string, deviceLimit: number): Promise<void> {
    this.#bearer = this.#credential.token;
    await this.#send('PUT', `/tenants/${tenantId}`, { name: `Bench ${tenantId}`, plan: { deviceLimit } });
    const password = randomBytes(18).toString('base64url');
    await this.#send('POST', `/tenants/${tenantId}/users`, {
      id: OWNER_ID,
      name: 'Bench owner',
      role: 'owner',
      email: OWNER_EMAIL,
      password,
    });
    const login = loginReply.parse(
      await this.#send('POST', '/auth/login', { tenantId, email: OWNER_EMAIL, password }),
    );
    this.#bearer = login.accessToken;
  }

  async createAgent(tenantId: string, agentId: string): Promise<void> {
    try {
      await this.#send('PUT', `/tenants/${tenantId}/agents/${agentId}`, { name: `Bench agent ${agentId}` });
    } catch (err) {
      if (!(err instanceof AdminApiError && err.status === 409)) throw err;
    }
  }

  /**
   * Delete an agent the run created: its devices' tokens are refused from then on and any
   * session it still has is ended. One already gone counts as deleted.
   */
  async deleteAgent(tenantId: string, agentId: string): Promise<void> {
    try {
      await this.#send('DELETE', `/tenants/${tenantId}/users/${agentId}`);
    } catch (err) {
      if (!(err instanceof AdminApiError && err.status === 404)) throw err;
    }
  }

  /** Register (or re-register) a device; returns its token. */
  async registerDevice(tenantId: string, deviceId: string, agentId: string): Promise<string> {
    const reply = await this.#send('PUT', `/tenants/${tenantId}/devices/${deviceId}`, {
      agentId,
      label: 'bench',
      platform: 'bench',
    });
    return deviceReply.parse(reply).token;
  }

  async putCampaign(tenantId: string, campaignId: string, spec: CampaignSpec): Promise<void> {
    await this.#send('PUT', `/tenants/${tenantId}/campaigns/${campaignId}`, spec);
  }

  async addLeads(tenantId: string, campaignId: string, leads: readonly FloorLead[]): Promise<number> {
    const reply = await this.#send('POST', `/tenants/${tenantId}/campaigns/${campaignId}/leads`, { leads });
    return leadsReply.parse(reply).queued;
  }
}
