// The bench command line (`bench/run.ts` is its entry): runs scenarios against a real Redis (and Postgres),
// prints each table to stdout (progress goes to stderr), merges each result into --json as soon
// as it is done, and writes the HTML + Markdown report at the end. `all` runs the whole suite.
//
// The scenarios are the files in bench/scenarios/ (lib/registry.ts). This file owns what every
// scenario shares: the options, checking the output paths before anything runs, a unique key
// prefix per scenario, deleting every key under it at the end (also on failure or Ctrl-C), the
// machine block, the tables, the JSON and the report.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { describeMachine } from './lib/machine.js';
import type { MachineInfo } from './lib/machine.js';
import { checkJsonTarget, checkReportTarget, parseResultsText } from './lib/output-paths.js';
import type { ReportTarget } from './lib/output-paths.js';
import { createProgress } from './lib/progress.js';
import { connectAdmin, deleteKeysWithPrefix } from './lib/redis-admin.js';
import { loadScenarios } from './lib/registry.js';
import { renderHtml, renderMarkdown } from './lib/report-doc.js';
import { mergeJson, renderTable } from './lib/report.js';
import type { Scenario, ScenarioContext, RemoteTarget } from './lib/scenario.js';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

interface CommonOptions {
  readonly json?: string;
  readonly report?: string;
  readonly quick: boolean;
  readonly redisUrl: string;
  readonly postgresUrl: string;
  readonly agents?: number;
  readonly duration?: number;
  readonly url?: string;
  readonly token?: string;
  readonly tenant?: string;
  /** The scenarios' own options arrive in the same object. */
  readonly [own: string]: unknown;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

async function sweep(redisUrl: string, keyPrefix: string): Promise<number> {
  const admin = await connectAdmin(redisUrl);
  try {
    return await deleteKeysWithPrefix(admin, keyPrefix);
  } finally {
    await admin.close();
  }
}

/** Which scenarios the arguments name (`all` expands to the suite); unknown names fail at once. */
export function selectScenarios(names: readonly string[], known: readonly Scenario[]): Scenario[] {
  const byName = new Map(known.map((s) => [s.name, s]));
  const picked: Scenario[] = [];
  for (const name of names) {
    const add = name === 'all' ? known : [byName.get(name)];
    for (const s of add) {
      if (!s) {
        throw new InvalidArgumentError(
          `unknown scenario "${name}"; known: ${[...byName.keys(), 'all'].join(', ')}`,
        );
      }
      if (!picked.includes(s)) picked.push(s);
    }
  }
  return picked;
}

function remoteTarget(options: CommonOptions, runId: string): RemoteTarget | undefined {
  if (options.url === undefined) {
    if (options.token !== undefined) throw new InvalidArgumentError('--token needs --url');
    return undefined;
  }
  if (options.token === undefined)
    throw new InvalidArgumentError('--url needs --token (the admin API credential)');
  try {
    new URL(options.url);
  } catch {
    throw new InvalidArgumentError(`--url ${options.url} is not a URL`);
  }
  return {
    url: options.url.replace(/\/$/, ''),
    token: options.token,
    tenant: options.tenant ?? `bench-${runId}`,
  };
}

async function runScenario(
  scenario: Scenario,
  options: CommonOptions,
  runId: string,
  target: RemoteTarget | undefined,
  abort: AbortController,
  suite: boolean,
) {
  const scenarioRunId = `${runId}${scenario.name.slice(0, 3)}`;
  const ctx: ScenarioContext = {
    redisUrl: options.redisUrl,
    postgresUrl: options.postgresUrl,
    quick: options.quick,
    suite: suite && !options.quick,
    ...(options.agents === undefined ? {} : { agents: options.agents }),
    ...(options.duration === undefined ? {} : { durationS: options.duration }),
    ...(target === undefined ? {} : { target }),
    runId: scenarioRunId,
    keyPrefix: `bench:${scenarioRunId}:`,
    signal: abort.signal,
    log: (message) => process.stderr.write(`[${scenario.name}] ${message}\n`),
    progress: (label, total, unit) => createProgress(`[${scenario.name}] ${label}`, total, unit),
    options,
  };
  ctx.log(
    `${ctx.quick ? 'quick' : ctx.suite ? 'suite-size' : 'full'} run ${scenarioRunId}; keys under ${ctx.keyPrefix}`,
  );
  try {
    return await scenario.run(ctx);
  } finally {
    const left = await sweep(ctx.redisUrl, ctx.keyPrefix).catch(() => 0);
    if (left > 0) ctx.log(`deleted ${left} leftover keys`);
  }
}

async function writeReport(target: ReportTarget, doc: Readonly<Record<string, unknown>>): Promise<void> {
  await mkdir(dirname(target.html), { recursive: true });
  await writeFile(target.html, renderHtml(doc));
  await writeFile(target.markdown, renderMarkdown(doc));
}

export async function main(argv: readonly string[]): Promise<void> {
  const known = await loadScenarios();
  const program = new Command()
    .name('bench')
    .description('dialhub load scenarios, each run side by side with its baseline in the same invocation')
    .argument('[scenarios...]', 'scenario names, or all')
    .option('--agents <n>', 'simulated agents / devices (the main size of a scenario)', positiveInt)
    .option(
      '--duration <s>',
      'length of the main measurement window in seconds (floor, connections)',
      positiveNumber,
    )
    .option('--json <path>', 'merge each result into this JSON file, keyed by scenario name')
    .option('--report <path>', 'write the report as <path>.html and <path>.md at the end')
    .option('--quick', 'small sizes, for a smoke run', false)
    .option('--suite', 'each scenario at its size inside `all` (what `all` runs), not its full size', false)
    .option('--redis-url <url>', 'Redis to run against (keys go under a unique prefix)', DEFAULT_REDIS_URL)
    .option('--postgres-url <url>', 'Postgres to run against (private schemas)', DEFAULT_POSTGRES_URL)
    .option('--url <url>', 'aim at a running dialhub instead (scenarios marked remote)')
    .option('--token <token>', 'admin API credential for --url (today: the ADMIN_TOKEN)')
    .option('--tenant <id>', 'tenant to create the run in on --url (default bench-<run id>)')
    .showHelpAfterError();
  const seen = new Set(program.options.map((o) => o.long));
  for (const scenario of known) {
    for (const own of scenario.options ?? []) {
      const option = new Option(own.flags, `${own.description} [${scenario.name}]`);
      if (seen.has(option.long)) continue;
      seen.add(option.long);
      if (own.parse) option.argParser(own.parse);
      program.addOption(option);
    }
  }
  const width = Math.max(...known.map((s) => s.name.length), 3);
  program.addHelpText(
    'after',
    [
      '',
      'Scenarios:',
      ...known.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}${s.remote ? ' (also with --url)' : ''}`),
      `  ${'all'.padEnd(width)}  every scenario above, in this order`,
      '',
      'Examples:',
      '  npm run bench -- connections --quick',
      '  npm run bench -- all --json bench/results/reference.json --report bench/results/report',
      '  npm run bench -- floor --url https://staging.example.com --token "$ADMIN_TOKEN" --agents 200',
    ].join('\n'),
  );
  program.action(async (names: string[], options: CommonOptions) => {
    if (names.length === 0) {
      program.help({ error: true });
    }
    const selected = selectScenarios(names, known);
    const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const target = remoteTarget(options, runId);
    if (target) {
      const local = selected.filter((s) => !s.remote).map((s) => s.name);
      if (local.length > 0)
        throw new InvalidArgumentError(
          `--url: ${local.join(', ')} run only against what the bench starts itself`,
        );
    }
    // Output paths first: a long run must never be lost at its end to a bad path.
    const existing = options.json === undefined ? {} : await checkJsonTarget(options.json);
    const report = options.report === undefined ? undefined : await checkReportTarget(options.report);

    const admin = await connectAdmin(options.redisUrl);
    const machine: MachineInfo = await describeMachine(admin, options.postgresUrl).finally(() =>
      admin.close(),
    );
    process.stderr.write(
      `bench ${runId}: ${selected.map((s) => s.name).join(', ')} on ${machine.cpus} x ${machine.cpuModel}, ` +
        `Redis ${machine.redis}, Postgres ${machine.postgres}, Node ${machine.node}; other processes busy ` +
        `${machine.otherCoresBusy} cores${machine.otherCoresBusy > 0.25 ? ' (expect noisy figures and repeated rounds)' : ''}\n`,
    );

    // Ctrl-C stops the scenario at its next check; it unwinds through its own cleanup and the
    // sweep, so the shared Redis is left clean. A second Ctrl-C exits at once.
    const abort = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (abort.signal.aborted) process.exit(130);
      process.stderr.write(`${signal}: stopping and cleaning up (again to force quit)\n`);
      process.exitCode = 130;
      abort.abort(new Error(`interrupted by ${signal}`));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const doc: Record<string, unknown> = { ...existing, machine };
    const failed: string[] = [];
    try {
      for (const scenario of selected) {
        if (abort.signal.aborted) break;
        try {
          const suite = names.includes('all') || options.suite === true;
          const started = process.hrtime.bigint();
          const outcome = await runScenario(scenario, options, runId, target, abort, suite);
          const result = {
            ...outcome.result,
            rows: outcome.rows,
            // Which plan ran and how long it took: `all` is meant to fit in about 15 minutes.
            size: options.quick ? 'quick' : suite ? 'suite' : 'full',
            elapsed_s: Math.round(Number(process.hrtime.bigint() - started) / 1e9),
          };
          const key = outcome.key ?? scenario.name;
          doc[key] = result;
          process.stdout.write(`\n${renderTable(outcome.rows)}\n\n`);
          if (options.json !== undefined) {
            await mergeJson(options.json, machine, key, result);
            process.stderr.write(`[${key}] merged into ${options.json}\n`);
          }
        } catch (err) {
          if (abort.signal.aborted) throw err;
          failed.push(scenario.name);
          const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
          process.stderr.write(`[${scenario.name}] failed: ${message}\n`);
          doc[scenario.name] = { error: err instanceof Error ? err.message : String(err) };
        }
      }
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (report) {
      // From the JSON file when there is one: the report then covers every scenario it holds.
      const full =
        options.json === undefined
          ? doc
          : { ...parseResultsText(options.json, await readFile(options.json, 'utf8')), ...pickErrors(doc) };
      await writeReport(report, full);
      process.stderr.write(`report: ${report.html} and ${report.markdown}\n`);
    }
    if (failed.length > 0) throw new Error(`${failed.length} scenario(s) failed: ${failed.join(', ')}`);
  });
  await program.parseAsync([...argv]);
}

/** Failed scenarios are not merged into the JSON file, but the report says they failed. */
function pickErrors(doc: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(doc).filter(([, v]) => v !== null && typeof v === 'object' && 'error' in v),
  );
}
