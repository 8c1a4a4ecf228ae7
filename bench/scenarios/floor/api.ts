// What the floor scenario's processes say to each other (plain JSON over loop/ipc.ts).
import type { FloorOutcome, FloorProfile } from './profile.js';

export interface FloorDeviceCredential {
  readonly deviceId: string;
  readonly token: string;
}

export interface FloorConnectRequest {
  /** Base URL plus namespace: <url>/agent. */
  readonly url: string;
  readonly campaignId: string;
  readonly devices: readonly FloorDeviceCredential[];
  readonly concurrency: number;
}

export interface FloorMark {
  /** Since the floor started in this worker. */
  readonly loggedInMs: number;
  readonly talkMs: number;
  readonly calls: number;
  readonly outcomes: Readonly<Record<FloorOutcome, number>>;
  /** Offers of leads that had been dialled before (retries and callbacks coming back). */
  readonly redials: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  /** Compressed HDR histogram (µs) of ready -> offer. */
  readonly offer: string;
  /** Calls completed per second since the start, index = second. */
  readonly perSecond: readonly number[];
  readonly cpuUs: number;
}

export type FloorWorkerApi = {
  connect(req: FloorConnectRequest): Promise<{ readonly connected: number }>;
  /** Every agent goes ready and works until stop. */
  start(req: { readonly profile: FloorProfile }): Promise<void>;
  mark(): Promise<FloorMark>;
  /** Stop taking calls; calls in progress finish (up to the timeout) so no lead stays leased. */
  stop(req: { readonly timeoutMs: number }): Promise<FloorMark>;
  shutdown(): Promise<void>;
};
