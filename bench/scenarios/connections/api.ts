// What the connections scenario's processes say to each other: the idle-device worker's API and
// the bare Socket.IO server's arguments. Plain JSON over the IPC channel (loop/ipc.ts).

/** How one idle device authenticates: dialhub's device token, or nothing for the bare server. */
export type IdleAuth = Readonly<Record<string, string>>;

export interface IdleConnectRequest {
  /** Base URL plus namespace, e.g. http://127.0.0.1:1234/agent. */
  readonly url: string;
  readonly auths: readonly IdleAuth[];
  /** Handshakes in flight at once. */
  readonly concurrency: number;
}

export interface IdleStatus {
  /** Sockets connected now. */
  readonly open: number;
  /** Sockets the server closed (or that timed out) since they connected: idle devices should never drop. */
  readonly dropped: number;
  /** Handshakes refused or failed, with the first few reasons. */
  readonly failed: number;
  readonly failures: readonly string[];
  /** Heartbeat pongs answered, cumulative (proves the heartbeats ran). */
  readonly pings: number;
  /** CPU of this worker process (user + system), cumulative. */
  readonly cpuUs: number;
}

export type IdleWorkerApi = {
  /** Open sockets, `concurrency` handshakes at a time; failures are counted, not thrown. */
  connect(req: IdleConnectRequest): Promise<{ readonly connected: number; readonly ms: number }>;
  status(): Promise<IdleStatus>;
  /** Close every socket (the devices log off). */
  closeAll(): Promise<void>;
  shutdown(): Promise<void>;
};
