// The agent sessions connected to this gateway process, by tenant and agent.
import type { AgentStateName } from '../protocol/schemas.js';
import type { AgentSession } from './agent-session.js';
import { sessionKey } from './agent-session.js';

export class SessionRegistry {
  readonly #sessions = new Map<string, AgentSession>();

  get size(): number {
    return this.#sessions.size;
  }

  get(tenantId: string, agentId: string): AgentSession | undefined {
    return this.#sessions.get(sessionKey(tenantId, agentId));
  }

  /** Register a session; returns the one it replaces on this process, if any. */
  add(session: AgentSession): AgentSession | undefined {
    const previous = this.#sessions.get(session.key);
    this.#sessions.set(session.key, session);
    return previous;
  }

  /** Remove the session if it is still the registered one for its agent. */
  remove(session: AgentSession): boolean {
    if (this.#sessions.get(session.key) !== session) return false;
    this.#sessions.delete(session.key);
    return true;
  }

  all(): IterableIterator<AgentSession> {
    return this.#sessions.values();
  }

  countsByState(): Map<AgentStateName, number> {
    const counts = new Map<AgentStateName, number>();
    for (const s of this.#sessions.values()) counts.set(s.state.name, (counts.get(s.state.name) ?? 0) + 1);
    return counts;
  }
}
