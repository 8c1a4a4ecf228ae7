// Prometheus metrics of one gateway process: offer latency, completions, agents by state and
// the Node runtime (event-loop lag included) from prom-client's default collectors.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { AGENT_STATES } from './protocol/schemas.js';
import type { AgentStateName } from './protocol/schemas.js';

export interface Metrics {
  readonly registry: Registry;
  /** Lease granted to offer acknowledged by the device, seconds. */
  readonly offerLatency: Histogram<'result'>;
  readonly completions: Counter<'result'>;
  readonly offers: Counter<'result'>;
  readonly outcomeBatch: Histogram;
  readonly agentsByState: Gauge<'state'>;
  readonly sockets: Gauge;
}

export function createMetrics(agentStates: () => ReadonlyMap<AgentStateName, number>): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  const agentsByState = new Gauge({
    name: 'dialhub_agents',
    help: 'Connected agents on this gateway by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const counts = agentStates();
      for (const state of AGENT_STATES) this.set({ state }, counts.get(state) ?? 0);
    },
  });
  return {
    registry,
    agentsByState,
    offerLatency: new Histogram({
      name: 'dialhub_offer_latency_seconds',
      help: 'From lease granted to the device acknowledging the offer',
      labelNames: ['result'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    offers: new Counter({
      name: 'dialhub_offers_total',
      help: 'Offers pushed to devices by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    completions: new Counter({
      name: 'dialhub_completions_total',
      help: 'Call completions by result (saved, duplicate, or an error code)',
      labelNames: ['result'],
      registers: [registry],
    }),
    outcomeBatch: new Histogram({
      name: 'dialhub_outcome_batch_size',
      help: 'Completions committed per Postgres transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    sockets: new Gauge({
      name: 'dialhub_agent_sockets',
      help: 'Connected agent sockets',
      registers: [registry],
    }),
  };
}
