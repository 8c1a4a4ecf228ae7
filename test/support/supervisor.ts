// Supervisor clients for tests: a socket.io-client on /supervisor that keeps the floor it was sent
// (snapshot, then agent deltas and counters, checking the sequence numbers as the dashboard does),
// and logins that give the access tokens supervisors present.
import { io as connect } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { asTenantId } from '../../engine/ids.js';
import type { Database, UserRole } from '../../db/index.js';
import { hashPassword } from '../../gateway/auth/passwords.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { createUserSessions } from '../../gateway/auth/user-sessions.js';
import { FloorDecoder, SUPERVISOR_NAMESPACE } from '../../gateway/supervisor/protocol.js';
import { TEST_PASSWORD } from './admin-gateway.js';
import { TEST_SECRET } from './gateway.js';

export { TEST_PASSWORD };
import type {
  AgentTile,
  CampaignTile,
  SupervisorClientEvents,
  SupervisorServerEvents,
} from '../../gateway/supervisor/protocol.js';

export type SupervisorClient = Socket<SupervisorServerEvents, SupervisorClientEvents>;

/**
 * Create a user of the tenant with a password and log in as it (the identity API's sessions):
 * the access token a supervisor's browser would hold.
 */
export async function loginAs(
  db: Database,
  tenantId: string,
  userId: string,
  role: UserRole,
): Promise<string> {
  const email = `${userId}@${tenantId}.test`.toLowerCase();
  await db.users.create({
    tenantId,
    id: userId,
    name: `User ${userId}`,
    role,
    email,
    passwordHash: await hashPassword(TEST_PASSWORD),
  });
  const sessions = createUserSessions({
    db,
    serverSecret: TEST_SECRET,
    deviceTokens: createDeviceTokens(TEST_SECRET),
  });
  const loggedIn = await sessions.login({ tenantId: asTenantId(tenantId), email, password: TEST_PASSWORD });
  return loggedIn.accessToken;
}

export class FloorWatcher {
  readonly agents = new Map<string, AgentTile>();
  campaigns: CampaignTile[] = [];
  seq = 0;
  readonly decoder = new FloorDecoder();
  /** Every sequence number received, in order. */
  readonly seqs: number[] = [];
  snapshots = 0;
  counters = 0;
  /** Every agent tile received, in order (to see each state an agent went through). */
  readonly history: AgentTile[] = [];
  readonly tenantsSeen = new Set<string>();
  #waiters: (() => void)[] = [];

  constructor(readonly socket: SupervisorClient) {
    socket.on('floor:snapshot', (f) => {
      this.snapshots++;
      this.#seq(f.seq);
      this.agents.clear();
      this.decoder.snapshot(f);
      for (const a of f.agents) this.agents.set(a.agentId, a);
      this.history.push(...f.agents);
      this.campaigns = [...f.campaigns];
      this.#wake();
    });
    socket.on('floor:agents', (f) => {
      this.#seq(f.seq);
      const agents = this.decoder.agents(f);
      for (const a of agents) this.agents.set(a.agentId, a);
      this.history.push(...agents);
      this.#wake();
    });
    socket.on('floor:counters', (f) => {
      this.counters++;
      this.#seq(f.seq);
      if (f.campaigns) this.campaigns = [...f.campaigns];
      this.decoder.averages(f);
      this.#wake();
    });
  }

  #seq(n: number): void {
    this.seqs.push(n);
    this.seq = n;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolve once `check` holds for the floor received (fails after `ms`). */
  async until(check: (w: FloorWatcher) => boolean, ms = 5_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check(this)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`floor condition not met within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  state(agentId: string): string | undefined {
    return this.agents.get(agentId)?.state;
  }
}

/** A supervisor's socket; `query` is sent with the handshake (e.g. HAProxy's gw pin, haproxy.ts). */
export async function connectSupervisor(
  url: string,
  token: string,
  query?: Record<string, string>,
  /** Reconnect by itself, as the wallboard page does (socket.io-client's default). */
  reconnection = false,
): Promise<SupervisorClient> {
  const socket: SupervisorClient = connect(`${url}${SUPERVISOR_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection,
    forceNew: true,
    auth: { token },
    ...(query ? { query } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
  return socket;
}

/** The data of a refused handshake (`{ code, message }`), or null when it connected. */
export async function handshakeError(url: string, token: unknown): Promise<{ code: string } | null> {
  const socket: SupervisorClient = connect(`${url}${SUPERVISOR_NAMESPACE}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token },
  });
  try {
    return await new Promise((resolve) => {
      socket.once('connect', () => resolve(null));
      socket.once('connect_error', (err) => resolve((err as unknown as { data: { code: string } }).data));
    });
  } finally {
    socket.disconnect();
  }
}

/** Emit a supervisor command and resolve with its acknowledgement. */
export function command<E extends keyof SupervisorClientEvents>(
  socket: SupervisorClient,
  event: E,
  payload: Parameters<SupervisorClientEvents[E]>[0],
): Promise<Parameters<Parameters<SupervisorClientEvents[E]>[1]>[0]> {
  const timed = socket.timeout(5_000) as unknown as { emitWithAck(ev: string, p: unknown): Promise<unknown> };
  return timed.emitWithAck(event, payload) as never;
}
