// The contract between `bench/run.ts` and a scenario: what a scenario is handed and what it
// hands back. A scenario is a file in bench/scenarios/ exporting an object that implements
// `Scenario` (see registry.ts); it gets the common options, progress, the table, the JSON merge
// and the report for free.
import type { Progress } from './progress.js';
import type { ScenarioResult, TableRow } from './report.js';

/** A dialhub the bench did not start (`--url`): it brings its own credentials. */
export interface RemoteTarget {
  /** Base URL, e.g. https://staging.example.com (the admin API is under /api/v1, devices on /agent). */
  readonly url: string;
  /** Admin API credential (today: the ADMIN_TOKEN bearer token). */
  readonly token: string;
  /** Tenant the run creates its campaign in (created if missing). */
  readonly tenant: string;
}

export interface ScenarioContext {
  readonly redisUrl: string;
  readonly postgresUrl: string;
  /** Smaller sizes for a smoke run; the full run is the one whose numbers are reported. */
  readonly quick: boolean;
  /**
   * Run as part of `all`: the scenario uses its suite size (shorter windows, fewer rounds, a
   * smaller largest step), so the whole suite fits in about 15 minutes on 2 cores. Alone, a
   * scenario runs at its full size; the JSON `config` says which ran.
   */
  readonly suite: boolean;
  /** --agents: the scenario's main size when given (agents, devices). */
  readonly agents?: number;
  /** --duration: how long the scenario's main window lasts, in seconds, when given. */
  readonly durationS?: number;
  /** --url: aim at this dialhub instead of one the scenario starts (only scenarios with `remote`). */
  readonly target?: RemoteTarget;
  /** Unique per invocation; every Redis key the run creates starts with `keyPrefix`. */
  readonly runId: string;
  readonly keyPrefix: string;
  /**
   * Aborted on Ctrl-C / SIGTERM. Long loops check it between Redis calls, so the scenario
   * unwinds through its own cleanup before run.ts sweeps the prefix, instead of writing keys
   * while the sweep runs.
   */
  readonly signal: AbortSignal;
  /** Progress for people watching; goes to stderr so stdout stays the table. */
  log(message: string): void;
  /** A progress bar on a terminal, plain lines otherwise. */
  progress(label: string, total: number, unit: string): Progress;
  /** Values of the scenario's own options (`Scenario.options`), keyed by commander's camelCase name. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A command-line option only one scenario understands (e.g. `--rate <n>` for `loop`). */
export interface ScenarioOption {
  /** commander flags, e.g. '--rate <n>'. */
  readonly flags: string;
  readonly description: string;
  /** Parses and checks the raw value; throws commander's InvalidArgumentError when it is bad. */
  readonly parse?: (value: string) => unknown;
}

export interface ScenarioOutcome {
  readonly result: ScenarioResult;
  readonly rows: readonly TableRow[];
  /** The JSON key of the result when it is not the scenario's name (e.g. `loop --gateways`). */
  readonly key?: string;
}

export interface Scenario {
  readonly name: string;
  /** One line for `--help`. */
  readonly summary: string;
  readonly options?: readonly ScenarioOption[];
  /** Runs against `--url` (a remote dialhub) as well as against what it starts itself. */
  readonly remote?: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

/** A value exported by a scenario file that implements Scenario (registry.ts picks these up). */
export function isScenario(value: unknown): value is Scenario {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v['name'] === 'string' && typeof v['summary'] === 'string' && typeof v['run'] === 'function';
}
