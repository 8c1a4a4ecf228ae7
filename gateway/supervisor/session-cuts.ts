// Ending wallboard connections whose credential ended: a logged-out session, a deleted or changed
// user, a revoked TV link, an expired access token. The identity code publishes disconnect targets
// on every gateway (gateway/auth/disconnects.ts); each gateway ends its own matching sockets here,
// telling the page why first (`session:ended`), so it logs in again or reconnects with a fresh token.
import type { DisconnectTarget } from '../auth/disconnects.js';

/** The part of a /supervisor socket this needs. */
export interface CuttableSocket {
  readonly data: {
    readonly tenantId?: string;
    readonly userId?: string;
    readonly sessionId?: string;
    readonly linkId?: string;
  };
  emit(event: 'session:ended', frame: { reason: string }): unknown;
  disconnect(close?: boolean): unknown;
}

export function endSession(socket: CuttableSocket, reason: string): void {
  socket.emit('session:ended', { reason });
  socket.disconnect(true);
}

/** Whether a published disconnect target names this socket's credential. */
export function matches(socket: CuttableSocket, t: DisconnectTarget): boolean {
  const d = socket.data;
  if (d.tenantId !== t.tenantId) return false;
  if (t.linkId !== undefined) return d.linkId === t.linkId;
  if (t.sessionId !== undefined) return d.sessionId === t.sessionId;
  // A deleted user, or one whose role or password changed: every session of theirs.
  if (t.agentId !== undefined && t.deviceId === undefined) return d.userId === t.agentId;
  return false;
}

/** End this gateway's /supervisor sockets the target names; returns how many. */
export function cutSupervisors(
  sockets: { forEach(f: (s: CuttableSocket) => void): void },
  target: DisconnectTarget,
): number {
  const cut: CuttableSocket[] = [];
  sockets.forEach((s) => {
    if (matches(s, target)) cut.push(s);
  });
  for (const s of cut) endSession(s, target.reason);
  return cut.length;
}
