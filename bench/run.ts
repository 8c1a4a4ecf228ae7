// `npm run bench -- <scenario> [--json PATH] [--quick] [--redis-url URL]`: runs one scenario
// against a real Redis, prints its table to stdout (progress goes to stderr) and, with --json,
// merges its result into a JSON file keyed by scenario name.
//
// Scenarios live in a registry; adding one is one entry in SCENARIOS. This file
// owns what every scenario shares: the options, a unique key prefix per invocation, deleting
// every key under it at the end (also on failure or Ctrl-C), the machine block and the report.
import { randomBytes } from 'node:crypto';
import { Command } from 'commander';
import { describeMachine } from './lib/machine.js';
import { connectAdmin, deleteKeysWithPrefix } from './lib/redis-admin.js';
import { mergeJson, renderTable } from './lib/report.js';
import type { Scenario, ScenarioContext } from './lib/scenario.js';
import { engineScenario } from './scenarios/engine.js';
import { loopScenario } from './scenarios/loop.js';

const SCENARIOS: readonly Scenario[] = [engineScenario, loopScenario];

interface CommonOptions {
  readonly json?: string;
  readonly quick: boolean;
  readonly redisUrl: string;
  /** The scenario's own options (Scenario.options) arrive in the same object. */
  readonly [own: string]: unknown;
}

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

async function sweep(redisUrl: string, keyPrefix: string): Promise<number> {
  const admin = await connectAdmin(redisUrl);
  try {
    return await deleteKeysWithPrefix(admin, keyPrefix);
  } finally {
    await admin.close();
  }
}

async function runScenario(scenario: Scenario, options: CommonOptions): Promise<void> {
  // Time first, so prefixes sort by run; random suffix, so parallel runs never share keys.
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const abort = new AbortController();
  const ctx: ScenarioContext = {
    redisUrl: options.redisUrl,
    quick: options.quick,
    runId,
    keyPrefix: `bench:${runId}:`,
    signal: abort.signal,
    log: (message) => process.stderr.write(`[${scenario.name}] ${message}\n`),
    options,
  };

  const admin = await connectAdmin(ctx.redisUrl);
  const machine = await describeMachine(admin).finally(() => admin.close());

  // Ctrl-C stops the scenario at its next Redis call; it unwinds through its own cleanup and the
  // sweep below, so the shared Redis is left clean. A second Ctrl-C exits at once.
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(130);
    ctx.log(`${signal}: stopping, then deleting keys under ${ctx.keyPrefix} (again to force quit)`);
    process.exitCode = 130;
    abort.abort(new Error(`interrupted by ${signal}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  ctx.log(
    `${options.quick ? 'quick' : 'full'} run ${runId} on ${machine.cpus} x ${machine.cpuModel}, ` +
      `Redis ${machine.redis}, Node ${machine.node}; keys under ${ctx.keyPrefix}`,
  );
  let outcome;
  try {
    outcome = await scenario.run(ctx);
  } finally {
    const left = await sweep(ctx.redisUrl, ctx.keyPrefix);
    if (left > 0) ctx.log(`deleted ${left} leftover keys`);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  process.stdout.write(`\n${renderTable(outcome.rows)}\n\n`);
  if (options.json !== undefined) {
    await mergeJson(options.json, machine, scenario.name, outcome.result);
    ctx.log(`results merged into ${options.json} under "${scenario.name}"`);
  }
}

const program = new Command()
  .name('bench')
  .description('dialhub load scenarios, each run side by side with its baseline')
  .showHelpAfterError();

for (const scenario of SCENARIOS) {
  const command = program
    .command(scenario.name)
    .description(scenario.summary)
    .option('--json <path>', 'merge the result into this JSON file, keyed by scenario name')
    .option('--quick', 'smaller sizes, for a smoke run', false)
    .option('--redis-url <url>', 'Redis to run against (keys go under a unique prefix)', DEFAULT_REDIS_URL);
  for (const own of scenario.options ?? []) {
    if (own.parse) command.option(own.flags, own.description, own.parse);
    else command.option(own.flags, own.description);
  }
  command.action(async (options: CommonOptions) => runScenario(scenario, options));
}

try {
  await program.parseAsync(process.argv);
} catch (err: unknown) {
  // An interruption has already been reported by the signal handler and needs no stack trace.
  const interrupted = process.exitCode === 130;
  const detail =
    err instanceof Error ? (interrupted ? err.message : (err.stack ?? err.message)) : String(err);
  process.stderr.write(`bench ${interrupted ? 'stopped' : 'failed'}: ${detail}\n`);
  process.exitCode ||= 1;
}
