// What one idle device costs the gateway's heap, without the whole ramp: a real gateway (memory
// queue store, real Postgres through test/support) holding N devices (default 2,000) whose clients
// live in a child process; heap used and external are read after full GCs before and after they
// connect. With a directory as second argument, a heap snapshot is written at both readings, to
// diff by object type. Run: node --expose-gc --import tsx bench/scenarios/connections/heap-probe.ts
// [N [dir]] (or bundled by esbuild without kept names, as production runs the gateway).
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { AGENT_NAMESPACE } from '../../../gateway/protocol/events.js';
import { TestGateway } from '../../../test/support/gateway.js';

const N = Number(process.argv[2] ?? 2000);
/** A directory: write a heap snapshot at each reading there. */
const SNAPSHOTS = process.argv[3];
const TENANT = 'probe';
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const collect = gc;

const read = (name: string) => {
  collect();
  collect();
  if (SNAPSHOTS) writeHeapSnapshot(join(SNAPSHOTS, `heap-probe-${name}.heapsnapshot`));
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
};

const g = await TestGateway.start({ store: 'memory' });
const clients = fork(new URL('./heap-probe-clients.ts', import.meta.url), [], {
  execArgv: ['--import', 'tsx'],
});
try {
  await g.db.tenants.create({ id: TENANT, name: 'Probe', plan: { deviceLimit: N + 5 } });
  for (let from = 0; from < N; from += 1000) {
    const ids = Array.from({ length: Math.min(1000, N - from) }, (_, k) => from + k);
    await g.db
      .knex('users')
      .insert(ids.map((i) => ({ tenant_id: TENANT, id: `a${i}`, name: `Agent ${i}`, role: 'agent' })));
    await g.db
      .knex('devices')
      .insert(ids.map((i) => ({ tenant_id: TENANT, id: `d${i}`, user_id: `a${i}`, platform: 'android' })));
  }
  const auths = await Promise.all(
    Array.from({ length: N }, async (_, i) => ({ token: await g.token(TENANT, i), deviceId: `d${i}` })),
  );
  const url = `${g.url}${AGENT_NAMESPACE}`;
  const ask = (msg: { url?: string; auths?: typeof auths; close?: boolean }) =>
    new Promise<void>((resolve) => {
      clients.once('message', () => resolve());
      clients.send(msg);
    });
  // A few devices connect and leave first, so code compiled at the first connection is not counted.
  await ask({ url, auths: auths.slice(0, 50) });
  await ask({ close: true });
  await new Promise((r) => setTimeout(r, 500));
  const before = read('0');
  await ask({ url, auths });
  await new Promise((r) => setTimeout(r, 1000));
  const after = read('1');
  process.stdout.write(
    `${N} devices: heap ${Math.round((after.heap - before.heap) / N)} B, external ` +
      `${Math.round((after.external - before.external) / N)} B per device\n`,
  );
} finally {
  clients.kill();
  await g.stop();
}
