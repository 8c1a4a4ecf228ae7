// HAProxy (Debian's package; .ci/run installs it) in front of gateway processes on loopback, on
// the project's one config (deploy/haproxy.cfg, which docker-compose.yml's scale profile mounts
// too; the addresses go in through its environment), as in production: HTTP mode, WebSocket upgrades passed through with long tunnel timeouts. A test
// may pin a connection to one gateway with the query parameter `gw=<n>` (1-based), so it can say
// which gateway holds which device while everything still goes through the one address. And it
// can check where each request went: every HTTP response carries `X-Dialhub-Gateway: g<n>` (the
// server HAProxy picked), and connections() reads each server's open connections from HAProxy's
// stats socket (a WebSocket stays open on the gateway that took it).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Haproxy {
  readonly port: number;
  readonly url: string;
  /** Open connections (HAProxy's scur) on each gateway, g1 first. */
  connections(): Promise<number[]>;
  stop(): Promise<void>;
}

/** The gateway (1-based) that served an HTTP response through HAProxy. */
export function servedBy(res: Response): number {
  const name = res.headers.get('x-dialhub-gateway') ?? '';
  const n = /^g(\d+)$/.exec(name)?.[1];
  if (!n) throw new Error(`no X-Dialhub-Gateway header (got "${name}")`);
  return Number(n);
}

/** The one HAProxy config of the project (docker-compose.yml's scale profile mounts it too). */
export const HAPROXY_CONFIG = fileURLToPath(new URL('../../deploy/haproxy.cfg', import.meta.url));

/** The config's three servers: one gateway serves as all three, three as one each. */
function serversOf(backends: readonly number[]): readonly number[] {
  if (backends.length === 3) return backends;
  if (backends.length === 1) return [backends[0]!, backends[0]!, backends[0]!];
  throw new RangeError(`deploy/haproxy.cfg has 3 servers: give 1 or 3 gateways, not ${backends.length}`);
}

/** One command on HAProxy's stats socket; resolves with its whole answer. */
function statsCommand(path: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = createConnection({ path });
    let out = '';
    s.on('data', (chunk) => (out += chunk.toString()));
    s.once('end', () => resolve(out));
    s.once('error', reject);
    s.write(`${command}\n`);
  });
}

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export async function startHaproxy(port: number, backends: readonly number[]): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'dialhub-haproxy-'));
  const stats = join(dir, 'stats.sock');
  const [g1, g2, g3] = serversOf(backends);
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', HAPROXY_CONFIG], {
    detached: true,
    stdio: 'ignore',
    env: {
      // eslint-disable-next-line no-restricted-syntax -- the child's environment (PATH), passed on
      ...process.env,
      DIALHUB_BIND: `127.0.0.1:${port}`,
      DIALHUB_GATEWAY_1: `127.0.0.1:${g1}`,
      DIALHUB_GATEWAY_2: `127.0.0.1:${g2}`,
      DIALHUB_GATEWAY_3: `127.0.0.1:${g3}`,
      DIALHUB_STATS_SOCKET: stats,
      DIALHUB_PIN: '1',
    },
  });
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  while (!(await reachable(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error('haproxy did not start');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const connections = async () => {
    // CSV: "# pxname,svname,qcur,qmax,scur,..."; one line per frontend, server and backend.
    const lines = (await statsCommand(stats, 'show stat')).split('\n');
    const header = (lines[0] ?? '').replace(/^# /, '').split(',');
    const [px, sv, scur] = ['pxname', 'svname', 'scur'].map((c) => header.indexOf(c)) as [
      number,
      number,
      number,
    ];
    return backends.map((_, i) => {
      const row = lines.map((l) => l.split(',')).find((r) => r[px] === 'gateways' && r[sv] === `g${i + 1}`);
      return Number(row?.[scur] ?? NaN);
    });
  };
  return { port, url: `http://127.0.0.1:${port}`, connections, stop };
}
