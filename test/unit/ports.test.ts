// The test servers' ports: below the ephemeral range (where outgoing connections take their local
// ports), bindable when handed out, and never handed out twice by one process.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canBind, CLUSTER_BUS_OFFSET, freeClusterPorts, freePort } from '../support/ports.js';

const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
  .trim()
  .split(/\s+/)
  .map(Number);

describe('test ports', () => {
  it('are below the ephemeral range, free, and distinct', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(ports).size).toBe(50);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(1024);
      expect(port).toBeLessThan(ephemeralLow!);
      expect(await canBind(port)).toBe(true);
    }
  });

  it('leave a cluster node its bus port, also below the range and free', async () => {
    const ports = await freeClusterPorts(6);
    const all = ports.flatMap((p) => [p, p + CLUSTER_BUS_OFFSET]);
    expect(new Set(all).size).toBe(12);
    for (const port of all) {
      expect(port).toBeLessThan(ephemeralLow!);
      expect(await canBind(port)).toBe(true);
    }
    // Neither a node's port nor its bus port is handed out again.
    const more = await Promise.all(Array.from({ length: 200 }, () => freePort()));
    expect(more.filter((p) => all.includes(p))).toEqual([]);
  });

  it('skips a port something is bound to', async () => {
    const port = await freePort();
    const { createServer } = await import('node:net');
    const server = createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      expect(await canBind(port)).toBe(false);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await canBind(port)).toBe(true);
  });
});
