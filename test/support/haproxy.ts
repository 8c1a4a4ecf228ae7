// HAProxy (Debian's package; .ci/run installs it) in front of gateway processes on loopback, as
// in production: HTTP mode, WebSocket upgrades passed through with long tunnel timeouts. A test
// may pin a connection to one gateway with the query parameter `gw=<n>` (1-based), so it can say
// which gateway holds which device while everything still goes through the one address.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Haproxy {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

export function haproxyConfig(port: number, backends: readonly number[]): string {
  return [
    'global',
    '  maxconn 4096',
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
    ...backends.map((_, i) => `  use-server g${i + 1} if { urlp(gw) -m str ${i + 1} }`),
    ...backends.map((p, i) => `  server g${i + 1} 127.0.0.1:${p} check inter 1s`),
    '',
  ].join('\n');
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
  await writeFile(cfg, haproxyConfig(port, backends));
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
  return { port, url: `http://127.0.0.1:${port}`, stop };
}
