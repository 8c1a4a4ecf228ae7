// Turning the loop scenario's phases into its result: medians over the counted rounds, the ratios
// against the two baselines and the goals, the JSON block (metrics, ratios, config, every attempt,
// profiles) and the table rows.
import type { ProfileSummary } from '../../lib/cpu-profile.js';
import type { AllocationSummary } from '../../lib/heap-profile.js';
import { mergeHistograms, summarizeHistogram } from '../../lib/hdr.js';
import { fmt } from '../../lib/report.js';
import { tableRow } from '../../lib/report.js';
import type { RowInput, ScenarioResult, TableRow } from '../../lib/report.js';
import { latencyByPercentile, PERCENTILE_TICKS } from '../../lib/charts.js';
import type { ScenarioOutcome } from '../../lib/scenario.js';
import { median, round } from '../../lib/stats.js';
import type { SystemName } from './api.js';
import type { ModeName, PhaseResult } from './phase.js';
import { GOALS } from './plan.js';
import { costsOf, cpuPer1k } from './costs.js';
import { describeRun } from './run-config.js';
import type { RunFacts } from './run-config.js';

/** A server's profiled phase: where its CPU went (`--cpu-prof`) and what it allocated per call. */
export type ServerProfile = ProfileSummary & { readonly allocation: AllocationSummary };

export interface Attempt {
  readonly round: number;
  readonly attempt: number;
  readonly disturbed: boolean;
  /** Whether the medians include it: the first undisturbed attempt, else the last one. */
  readonly counted: boolean;
  readonly result: PhaseResult;
}

export interface OutcomeInput extends RunFacts {
  readonly attempts: readonly Attempt[];
  readonly warmups: readonly PhaseResult[];
  readonly profiles: Readonly<Record<string, ServerProfile>>;
}

function attemptRecord(a: Attempt) {
  const r = a.result;
  const cpu = cpuPer1k(r);
  return {
    system: r.system,
    mode: r.mode,
    round: a.round,
    attempt: a.attempt,
    counted: a.counted,
    disturbed: a.disturbed,
    calls: r.calls,
    calls_per_s: round(r.callsPerS, 0),
    device_calls: r.figures.deviceCalls,
    offers: r.figures.offers,
    messages_in: r.figures.messagesIn,
    messages_out: r.figures.messagesOut,
    errors: r.figures.errors,
    error_samples: r.figures.errorSamples,
    seconds: round(r.figures.seconds, 3),
    latency_ms: r.latency,
    cores: r.figures.cores,
    cpu_ms_per_1k_calls: r.calls > 0 ? round(cpu.total, 1) : null,
    server_event_loop_utilization: round(r.figures.serverLoopUtilization, 3),
    server_counters: r.figures.serverCounters,
    depth_before: r.depthBefore,
    depth_after: r.depthAfter,
  };
}

/**
 * The latency budget of dialhub's ready -> offer in the open loop: the mean time of each stage
 * inside the gateway (gateway/offer-budget.ts counts them), and what the device saw from sending
 * ready to receiving the offer; the difference is outside the gateway's own code (the wire both
 * ways, Socket.IO framing, event-loop queueing before the handler runs, the client). Means, so
 * the stages add up.
 */
export function latencyBudget(rs: readonly PhaseResult[]) {
  const sum = (k: string) => rs.reduce((a, r) => a + (r.figures.serverCounters[k] ?? 0), 0);
  const offers = sum('budget_offers');
  if (offers === 0) return null;
  const ms = (k: string) => round(sum(k) / offers / 1000, 3);
  const stages = {
    session_ms: ms('budget_session_us'),
    batch_wait_ms: ms('budget_batch_wait_us'),
    script_ms: ms('budget_script_us'),
    after_script_ms: ms('budget_after_script_us'),
  };
  const inside = Object.values(stages).reduce((a, v) => a + v, 0);
  const seen = median(rs.map((r) => r.latency.offerFromSend.mean_ms));
  return {
    offers_traced: offers,
    ...stages,
    inside_gateway_ms: round(inside, 3),
    device_ready_sent_to_offer_mean_ms: round(seen, 3),
    outside_gateway_ms: round(seen - inside, 3),
  };
}

export function buildOutcome(input: OutcomeInput): ScenarioOutcome {
  const counted = (system: SystemName, mode: ModeName) =>
    input.attempts
      .filter((a) => a.counted && a.result.system === system && a.result.mode === mode)
      .map((a) => a.result);
  const dhClosed = counted('dialhub', 'closed');
  const sioClosed = counted('socketio', 'closed');
  const bqClosed = counted('bullmq', 'closed');
  const dhOpen = counted('dialhub', 'open');
  const bqOpen = counted('bullmq', 'open');
  const med = (rs: readonly PhaseResult[], f: (r: PhaseResult) => number, digits = 3) =>
    round(median(rs.map(f)), digits);
  const allRounds = (rs: readonly PhaseResult[]) =>
    summarizeHistogram(mergeHistograms(rs.map((r) => r.histograms.offer)));

  const calls = med(dhClosed, (r) => r.callsPerS, 0);
  const sio = med(sioClosed, (r) => r.callsPerS, 0);
  const bq = med(bqClosed, (r) => r.callsPerS, 0);
  const dhLat = (k: 'p50_ms' | 'p90_ms' | 'p99_ms' | 'p999_ms' | 'max_ms') =>
    med(dhOpen, (r) => r.latency.offer[k]);
  const bqLat = (k: 'p50_ms' | 'p90_ms' | 'p99_ms' | 'p999_ms' | 'max_ms') =>
    med(bqOpen, (r) => r.latency.offer[k]);
  const costs = {
    dialhub: { closed: costsOf(dhClosed), open: costsOf(dhOpen) },
    socketio: { closed: costsOf(sioClosed) },
    bullmq_dialer: { closed: costsOf(bqClosed), open: costsOf(bqOpen) },
  };
  const dhCost = costs.dialhub.closed;
  const bqCost = costs.bullmq_dialer.closed;
  const dhAll = allRounds(dhOpen);
  const bqAll = allRounds(bqOpen);
  const budget = latencyBudget(dhOpen);

  const metrics = {
    calls_per_s: calls,
    socketio_roundtrips_per_s: sio,
    bullmq_dialer_calls_per_s: bq,
    offer_p50_ms: dhLat('p50_ms'),
    offer_p99_ms: dhLat('p99_ms'),
    bullmq_dialer_offer_p99_ms: bqLat('p99_ms'),
    cpu_ms_per_1k_calls: dhCost.cpu_ms_per_1k_calls.server_redis_postgres,
    offer_p90_ms: dhLat('p90_ms'),
    offer_p999_ms: dhLat('p999_ms'),
    offer_max_ms: dhLat('max_ms'),
    offer_p99_ms_all_rounds: dhAll.p99_ms,
    offer_from_send_p99_ms: med(dhOpen, (r) => r.latency.offerFromSend.p99_ms),
    open_loop_calls_per_s: med(dhOpen, (r) => r.callsPerS, 0),
    bullmq_dialer_offer_p50_ms: bqLat('p50_ms'),
    bullmq_dialer_offer_p90_ms: bqLat('p90_ms'),
    bullmq_dialer_offer_p999_ms: bqLat('p999_ms'),
    bullmq_dialer_offer_max_ms: bqLat('max_ms'),
    bullmq_dialer_offer_p99_ms_all_rounds: bqAll.p99_ms,
    bullmq_dialer_offer_from_send_p99_ms: med(bqOpen, (r) => r.latency.offerFromSend.p99_ms),
    bullmq_dialer_open_loop_calls_per_s: med(bqOpen, (r) => r.callsPerS, 0),
    cpu_ms_per_1k_calls_gateway: dhCost.cpu_ms_per_1k_calls.server,
    cpu_ms_per_1k_calls_redis: dhCost.cpu_ms_per_1k_calls.redis,
    cpu_ms_per_1k_calls_postgres: dhCost.cpu_ms_per_1k_calls.postgres_backends,
    open_loop_cpu_ms_per_1k_calls: costs.dialhub.open.cpu_ms_per_1k_calls.server_redis_postgres,
    bullmq_dialer_cpu_ms_per_1k_calls: bqCost.cpu_ms_per_1k_calls.server_redis_postgres,
    bullmq_dialer_cpu_ms_per_1k_calls_server: bqCost.cpu_ms_per_1k_calls.server,
    bullmq_dialer_cpu_ms_per_1k_calls_redis: bqCost.cpu_ms_per_1k_calls.redis,
    bullmq_dialer_cpu_ms_per_1k_calls_postgres: bqCost.cpu_ms_per_1k_calls.postgres_backends,
    bullmq_dialer_open_loop_cpu_ms_per_1k_calls:
      costs.bullmq_dialer.open.cpu_ms_per_1k_calls.server_redis_postgres,
    gateway_event_loop_utilization: dhCost.server_event_loop_utilization,
    bullmq_dialer_event_loop_utilization: bqCost.server_event_loop_utilization,
    open_loop_gateway_event_loop_utilization: costs.dialhub.open.server_event_loop_utilization,
    closed_cycle_p50_ms: med(dhClosed, (r) => r.latency.cycle.p50_ms),
    closed_cycle_p99_ms: med(dhClosed, (r) => r.latency.cycle.p99_ms),
    socketio_roundtrip_p50_ms: med(sioClosed, (r) => r.latency.cycle.p50_ms),
    socketio_roundtrip_p99_ms: med(sioClosed, (r) => r.latency.cycle.p99_ms),
    redis_scripts_per_call: dhCost.redis_scripts,
    open_loop_redis_scripts_per_call: costs.dialhub.open.redis_scripts,
    bullmq_dialer_redis_scripts_per_call: bqCost.redis_scripts,
    outcome_rows_per_commit: dhCost.outcome_rows_per_commit ?? Number.NaN,
    open_loop_outcome_rows_per_commit: costs.dialhub.open.outcome_rows_per_commit ?? Number.NaN,
    device_messages_per_call: round(dhCost.socketio_messages_in + dhCost.socketio_messages_out, 2),
    bullmq_dialer_device_messages_per_call: round(
      bqCost.socketio_messages_in + bqCost.socketio_messages_out,
      2,
    ),
    gateway_write_syscalls_per_call: dhCost.server_write_syscalls,
    bullmq_dialer_write_syscalls_per_call: bqCost.server_write_syscalls,
    socketio_write_syscalls_per_roundtrip: costs.socketio.closed.server_write_syscalls,
    rounds_repeated: input.attempts.filter((a) => !a.counted).length,
    rounds_counted_disturbed: input.attempts.filter((a) => a.counted && a.disturbed).length,
  };
  const ratios = {
    vs_socketio: round(calls / sio, 3),
    vs_bullmq_dialer: round(calls / bq, 3),
    offer_p99_vs_bullmq_dialer: round(metrics.offer_p99_ms / metrics.bullmq_dialer_offer_p99_ms, 3),
    offer_p50_vs_bullmq_dialer: round(metrics.offer_p50_ms / metrics.bullmq_dialer_offer_p50_ms, 3),
    cpu_per_call_vs_bullmq_dialer: round(
      metrics.cpu_ms_per_1k_calls / metrics.bullmq_dialer_cpu_ms_per_1k_calls,
      3,
    ),
  };
  const met = {
    vs_bullmq_dialer: ratios.vs_bullmq_dialer >= GOALS.vs_bullmq_dialer,
    vs_socketio: ratios.vs_socketio >= GOALS.vs_socketio,
    offer_p99_ms: metrics.offer_p99_ms <= GOALS.offer_p99_ms,
    offer_p99_vs_bullmq_dialer: ratios.offer_p99_vs_bullmq_dialer <= GOALS.offer_p99_vs_bullmq_dialer,
  };

  const result: ScenarioResult = {
    metrics,
    ratios,
    config: describeRun(input),
    attempts: input.attempts.map(attemptRecord),
    warmups: input.warmups.map((r) => ({ system: r.system, calls_per_s: round(r.callsPerS, 0) })),
    per_call: costs,
    open_loop_all_rounds_ms: { dialhub: dhAll, bullmq_dialer: bqAll },
    latency_budget: budget,
    charts: [
      {
        kind: 'lines',
        title: `ready->offer latency by percentile ${`@${fmt(input.ratePerS)}/s`}, all counted rounds`,
        xLabel: 'percentile',
        yLabel: 'ms',
        xTicks: PERCENTILE_TICKS,
        series: [
          latencyByPercentile('dialhub', mergeHistograms(dhOpen.map((r) => r.histograms.offer))),
          latencyByPercentile('BullMQ dialer', mergeHistograms(bqOpen.map((r) => r.histograms.offer))),
        ],
      },
      {
        kind: 'bars',
        title: 'closed-loop throughput (calls or round trips per second)',
        yLabel: 'per s',
        groups: ['dialhub', 'bare Socket.IO', 'BullMQ dialer'],
        series: [{ name: 'per s', values: [calls, sio, bq] }],
      },
      {
        kind: 'bars',
        title: 'CPU ms per 1,000 calls by process (closed loop)',
        yLabel: 'ms',
        groups: ['server', 'Redis', 'Postgres'],
        series: [
          {
            name: 'dialhub',
            values: [
              metrics.cpu_ms_per_1k_calls_gateway,
              metrics.cpu_ms_per_1k_calls_redis,
              metrics.cpu_ms_per_1k_calls_postgres,
            ],
          },
          {
            name: 'BullMQ dialer',
            values: [
              metrics.bullmq_dialer_cpu_ms_per_1k_calls_server,
              metrics.bullmq_dialer_cpu_ms_per_1k_calls_redis,
              metrics.bullmq_dialer_cpu_ms_per_1k_calls_postgres,
            ],
          },
        ],
      },
    ],
    ...(Object.keys(input.profiles).length > 0 ? { profiles: input.profiles } : {}),
    goals: {
      vs_bullmq_dialer: { goal: `>= ${GOALS.vs_bullmq_dialer}`, met: met.vs_bullmq_dialer },
      vs_socketio: { goal: `>= ${GOALS.vs_socketio}`, met: met.vs_socketio },
      offer_p99_ms: { goal: `<= ${GOALS.offer_p99_ms}`, met: met.offer_p99_ms },
      offer_p99_vs_bullmq_dialer: {
        goal: `<= ${GOALS.offer_p99_vs_bullmq_dialer}`,
        met: met.offer_p99_vs_bullmq_dialer,
      },
    },
    notes: [
      'Everything shares the machine: the server under test, the agent workers, Redis and Postgres. attempts[].cores says who used the CPU in each window; an attempt whose other + steal exceeded config.max_other_cores is disturbed and run again at once (up to config.retries_per_phase times, config.retry_budget in all; then the last attempt counts, flagged disturbed); the medians use the counted attempts.',
      'Redis and Postgres are shared with other users: Redis CPU and per_call.*.redis_* include whatever other clients ran in the window (INFO commandstats counts the commands scripts run inside them too; redis_scripts counts only the script calls clients sent).',
      'per_call.*.server_write_syscalls: write system calls of the server process per call (/proc/self/io syscw): WebSocket frames to devices plus Redis and Postgres requests, each write one syscall unless batched.',
      'cpu_ms_per_1k_calls (closed loop) is the cost at saturation, where dialhub batches across agents; per_call.*.open.cpu_ms_per_1k_calls is the cost at the open-loop rate, where most batches hold one call.',
      'bullmq_dialer_calls_per_s counts jobs completed (outcome inserted) on its server; the other two count acknowledgements received by the devices.',
      'offer_from_send_*: from the moment the device actually sent ready, i.e. without the agent worker being late for its slot; the headline latency includes that lateness, as it must (no coordinated omission).',
    ],
  };

  const goal = (text: string, ok: boolean) => `${text} (${ok ? 'met' : 'missed'})`;
  const x = (r: number) => `${r.toFixed(2)}x`;
  const ms = (v: number) => v.toFixed(2);
  const row = (r: RowInput): TableRow => tableRow('loop', r);
  const rate = `@${fmt(input.ratePerS)}/s, ${fmt(input.agents)} agents`;
  const rows: TableRow[] = [
    row({
      metric: 'calls/s vs BullMQ dialer calls/s',
      value: fmt(calls),
      baseline: `${fmt(bq)} (BullMQ c=${input.agents})`,
      ratio: x(ratios.vs_bullmq_dialer),
      better: 'higher',
      goal: goal(`>= ${GOALS.vs_bullmq_dialer}x`, met.vs_bullmq_dialer),
      explain:
        'closed loop: calls completed per second end to end (offer, accept, outcome committed in Postgres, acknowledged) with every agent as fast as it can go',
    }),
    row({
      metric: 'calls/s vs bare Socket.IO round trips/s',
      value: fmt(calls),
      baseline: fmt(sio),
      ratio: x(ratios.vs_socketio),
      better: 'higher',
      goal: goal(`>= ${GOALS.vs_socketio}x`, met.vs_socketio),
      explain:
        "the same calls/s against a plain Socket.IO server answering pings with the same clients: the socket layer's ceiling (a call needs two round trips, so 0.5x is the best possible)",
    }),
    row({
      metric: `ready->offer p99 ms ${rate}`,
      value: ms(metrics.offer_p99_ms),
      baseline: ms(metrics.bullmq_dialer_offer_p99_ms),
      ratio: x(ratios.offer_p99_vs_bullmq_dialer),
      better: 'lower',
      goal: `${goal(`<= ${GOALS.offer_p99_ms} ms`, met.offer_p99_ms)}, ${goal(`<= ${GOALS.offer_p99_vs_bullmq_dialer}x`, met.offer_p99_vs_bullmq_dialer)}`,
      explain:
        'open loop at a fixed rate: time from the instant an agent was scheduled to become ready to the offer arriving on its device, slowest 1%',
    }),
    row({
      metric: '  p50 ms',
      value: ms(metrics.offer_p50_ms),
      baseline: ms(metrics.bullmq_dialer_offer_p50_ms),
      ratio: x(ratios.offer_p50_vs_bullmq_dialer),
      better: 'lower',
      explain: 'the same ready->offer latency, median',
    }),
    row({
      metric: '  p90 ms',
      value: ms(metrics.offer_p90_ms),
      baseline: ms(metrics.bullmq_dialer_offer_p90_ms),
      explain: 'the same, 90th percentile',
    }),
    row({
      metric: '  max ms',
      value: ms(metrics.offer_max_ms),
      baseline: ms(metrics.bullmq_dialer_offer_max_ms),
      explain: 'the same, the slowest offer of the window',
    }),
    ...(budget === null
      ? []
      : [
          row({
            metric: '  budget, mean ms',
            value: `${ms(budget.session_ms)} / ${ms(budget.batch_wait_ms)} / ${ms(budget.script_ms)} / ${ms(budget.after_script_ms)} / ${ms(budget.outside_gateway_ms)}`,
            explain:
              'where a ready->offer spends its time, means over the open loop: waiting for its session and the state machine / in the batcher (a call of its campaign in flight) / the ready-and-dispatch script round trip to Redis / after the script until the offer is handed to Socket.IO / outside the gateway code (wire, framing, event-loop queueing, client)',
          }),
        ]),
    row({
      metric: '  p99 ms from actual send',
      value: ms(metrics.offer_from_send_p99_ms),
      baseline: ms(metrics.bullmq_dialer_offer_from_send_p99_ms),
      explain:
        "p99 counted from when the device really sent ready rather than its scheduled instant: the difference is the load generator's own lateness",
    }),
    row({
      metric: 'CPU ms per 1k calls (server+Redis+PG backends)',
      value: fmt(metrics.cpu_ms_per_1k_calls, 1),
      baseline: fmt(metrics.bullmq_dialer_cpu_ms_per_1k_calls, 1),
      ratio: x(ratios.cpu_per_call_vs_bullmq_dialer),
      better: 'lower',
      explain:
        "CPU time the server process, Redis and the server's Postgres backends spent per 1,000 calls in the closed loop: what a call costs",
    }),
    row({
      metric: '  server / Redis / PG',
      value: `${fmt(metrics.cpu_ms_per_1k_calls_gateway, 0)}/${fmt(metrics.cpu_ms_per_1k_calls_redis, 0)}/${fmt(metrics.cpu_ms_per_1k_calls_postgres, 0)}`,
      baseline: `${fmt(metrics.bullmq_dialer_cpu_ms_per_1k_calls_server, 0)}/${fmt(metrics.bullmq_dialer_cpu_ms_per_1k_calls_redis, 0)}/${fmt(metrics.bullmq_dialer_cpu_ms_per_1k_calls_postgres, 0)}`,
      explain: 'the same CPU cost split by process',
    }),
    row({
      metric: 'CPU ms per 1k calls, open loop',
      value: fmt(metrics.open_loop_cpu_ms_per_1k_calls, 1),
      baseline: fmt(metrics.bullmq_dialer_open_loop_cpu_ms_per_1k_calls, 1),
      explain: 'CPU per 1,000 calls at the fixed open-loop rate, where there is little to batch',
    }),
    row({
      metric: 'Redis script calls per call (closed / open)',
      value: `${fmt(metrics.redis_scripts_per_call, 2)} / ${fmt(metrics.open_loop_redis_scripts_per_call, 2)}`,
      baseline: fmt(metrics.bullmq_dialer_redis_scripts_per_call, 2),
      explain: 'Lua script invocations sent to Redis per completed call (fewer means more batching)',
    }),
    row({
      metric: 'Socket.IO messages per call (device in+out)',
      value: fmt(metrics.device_messages_per_call, 2),
      baseline: fmt(metrics.bullmq_dialer_device_messages_per_call, 2),
      explain:
        'events and acknowledgements a device sends and receives per call (WebSocket frames, pings excluded)',
    }),
    row({
      metric: 'server write syscalls per call',
      value: fmt(metrics.gateway_write_syscalls_per_call, 2),
      baseline: fmt(metrics.bullmq_dialer_write_syscalls_per_call, 2),
      explain:
        'write system calls of the server process per call: frames to devices plus Redis and Postgres requests',
    }),
    row({
      metric: 'outcome rows per Postgres commit (closed / open)',
      value: `${fmt(metrics.outcome_rows_per_commit, 1)} / ${fmt(metrics.open_loop_outcome_rows_per_commit, 1)}`,
      baseline: '1',
      explain:
        'how many call outcomes share one Postgres transaction (group commit); the baseline commits each alone',
    }),
    row({
      metric: 'server event loop busy (closed loop)',
      value: fmt(metrics.gateway_event_loop_utilization, 2),
      baseline: fmt(metrics.bullmq_dialer_event_loop_utilization, 2),
      explain:
        "share of wall time the server's event loop was busy: near 1.0 means the server process is the bottleneck",
    }),
    row({
      metric: 'closed-loop call cycle p50 / p99 ms',
      value: `${ms(metrics.closed_cycle_p50_ms)} / ${ms(metrics.closed_cycle_p99_ms)}`,
      explain: 'time one whole call takes a device in the closed loop (ready to completion acknowledged)',
    }),
    row({
      metric: 'phases repeated (disturbed) / counted though disturbed',
      value: `${metrics.rounds_repeated} / ${metrics.rounds_counted_disturbed}`,
      explain:
        'measurement windows run again because other processes took more than config.max_other_cores cores, and those that still counted after the retry budget ran out',
    }),
  ];
  return { result, rows };
}
