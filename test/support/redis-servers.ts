// Extra Redis servers for tests, started from the redis-server binary: a lone server with chosen
// settings, or a Redis Cluster (`--cluster-enabled yes`, `redis-cli --cluster create`). Ports come
// from ./ports.ts (below the ephemeral range, the cluster bus port +10000 too), data dirs live
// under /tmp, and every process is started in its own process group and killed by it in stop().
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeClusterPorts } from './ports.js';

const run = promisify(execFile);

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Kill the process group (SIGKILL: a crash, for failover). */
  kill(): void;
}

export interface RedisServers {
  readonly servers: readonly RedisServer[];
  /** Kill every server and remove its data dir. */
  stop(): Promise<void>;
}

/** Wait until `server` answers; one that exited (its port taken) fails at once. */
async function ping(server: RedisServer, deadlineMs: number): Promise<void> {
  const { port, process: child } = server;
  const deadline = Date.now() + deadlineMs;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  for (;;) {
    if (exited()) throw new Error(`redis-server on port ${port} exited (port taken?)`);
    try {
      const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
      // A PONG from another test's server on the same port is not ours.
      if (stdout.trim() === 'PONG' && !exited()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start `count` servers; a port taken between the check and the bind is retried on new ports. */
async function startServers(count: number, args: readonly string[]): Promise<RedisServers> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServersOnce(count, args);
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function startServersOnce(count: number, args: readonly string[]): Promise<RedisServers> {
  const dir = await mkdtemp(join(tmpdir(), 'dialhub-redis-'));
  const servers: RedisServer[] = [];
  const stop = async () => {
    for (const s of servers) s.kill();
    await Promise.all(
      servers
        .filter((s) => s.process.exitCode === null && s.process.signalCode === null)
        .map((s) => new Promise((r) => s.process.once('exit', r))),
    );
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (const port of await freeClusterPorts(count)) {
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
          .concat(['--dbfilename', `dump-${port}.rdb`, '--cluster-config-file', `nodes-${port}.conf`])
          .concat(args),
        { detached: true, stdio: 'ignore' },
      );
      servers.push({
        port,
        url: `redis://127.0.0.1:${port}`,
        process: child,
        kill: () => {
          if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
            try {
              process.kill(-child.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
        },
      });
    }
    await Promise.all(servers.map((s) => ping(s, 10_000)));
    return { servers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One redis-server with extra settings (e.g. ['--maxmemory-policy', 'allkeys-lru']). */
export async function startRedisServer(args: readonly string[] = []): Promise<RedisServers> {
  return startServers(1, args);
}

export interface RedisCluster extends RedisServers {
  /** redis:// URLs of every node, masters first. */
  readonly nodes: readonly string[];
}

/**
 * A Redis Cluster of `masters` masters with `replicas` replicas each, ready (cluster_state:ok
 * on every node, every replica synced) when this resolves. Replicas fail over quickly
 * (cluster-node-timeout 1000 ms).
 */
export async function startRedisCluster(masters = 3, replicas = 0): Promise<RedisCluster> {
  const all = await startServers(masters * (1 + replicas), [
    '--cluster-enabled',
    'yes',
    '--cluster-node-timeout',
    '1000',
    // Replicas sync at once (Redis waits 5 s by default for more replicas to share one transfer):
    // a replica that never synced refuses to take over.
    '--repl-diskless-sync-delay',
    '0',
  ]);
  try {
    const hosts = all.servers.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', [
      '--cluster',
      'create',
      ...hosts,
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    const deadline = Date.now() + 20_000;
    for (const s of all.servers) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(s.port), 'cluster', 'info']);
        if (/cluster_state:ok/.test(stdout)) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${s.port} not ok: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    // Every replica has its master's data (a replica that never synced cannot fail over).
    for (const s of all.servers) {
      for (;;) {
        const { stdout } = await run('redis-cli', ['-p', String(s.port), 'info', 'replication']);
        if (/role:master/.test(stdout) || /master_link_status:up/.test(stdout)) break;
        if (Date.now() > deadline) throw new Error(`replica ${s.port} never synced: ${stdout}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { ...all, nodes: all.servers.map((s) => s.url) };
  } catch (err) {
    await all.stop();
    throw err;
  }
}
