// HAProxy (Debian's package; .ci/run installs it) in front of gateway processes on loopback, as
// in production: HTTP mode, WebSocket upgrades passed through with long tunnel timeouts. A test
// may pin a connection to one gateway with the query parameter `gw=<n>` (1-based), so it can say
// which gateway holds which device while everything still goes through the one address. And it
// can check where each request went: every HTTP response carries `X-Dialhub-Gateway: g<n>` (the
// server HAProxy picked), and connections() reads each server's open connections from HAProxy's
// stats socket (a WebSocket stays open on the gateway that took it).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

export function haproxyConfig(port: number, backends: readonly number[], statsSocket?: string): string {
  return [
    'global',
    '  maxconn 4096',
    ...(statsSocket ? [`  stats socket ${statsSocket} mode 600 level operator`] : []),
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    // A WebSocket is a tunnel once upgraded: it lives as long as the agent's shift.
    '  timeout tunnel 1h',
    'frontend dialhub',
    `  bind 127.0.0.1:${port}`,
    '  default_backend gateways',
    'backend gateways',
    '  balance roundrobin',
    // Which gateway answered, for tests and for operators reading a trace.
    '  http-response set-header X-Dialhub-Gateway %[srv_name]',
    ...backends.map((_, i) => `  use-server g${i + 1} if { urlp(gw) -m str ${i + 1} }`),
    ...backends.map((p, i) => `  server g${i + 1} 127.0.0.1:${p} check inter 1s`),
    '',
  ].join('\n');
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
  const cfg = join(dir, 'haproxy.cfg');
  const stats = join(dir, 'stats.sock');
  await writeFile(cfg, haproxyConfig(port, backends, stats));
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', cfg], { detached: true, stdio: 'ignore' });
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
