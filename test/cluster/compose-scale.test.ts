// docker-compose.yml's `scale` profile, read statically (no Docker on these machines): three
// gateways on a Redis Cluster of 3 masters with a replica each and Postgres, behind HAProxy
// configured for WebSockets, and that HAProxy runs deploy/haproxy.cfg, the file the tests
// (test/support/haproxy.ts) and the bench start Debian's haproxy on.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HAPROXY_CONFIG } from '../support/haproxy.js';

interface Service {
  profiles?: string[];
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, { condition: string }>;
  configs?: { source: string; target: string }[];
  ports?: string[];
}

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const compose = parse(readFileSync(root('docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  configs: Record<string, { file?: string; content?: string }>;
};
const inScale = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('scale'));
const named = (prefix: string) => inScale.filter(([n]) => n.startsWith(prefix));
const dependsOn = (s: Service) =>
  Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
const haproxyCfg = readFileSync(HAPROXY_CONFIG, 'utf8');

describe("docker-compose.yml's scale profile", () => {
  it('runs three gateways on the Redis Cluster and Postgres, with shared secrets', () => {
    const gateways = named('gateway-');
    expect(gateways.map(([n]) => n).sort()).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
    for (const [, g] of gateways) {
      expect(g.build).toBeDefined();
      const env = g.environment!;
      expect(env['REDIS_CLUSTER_NODES']!.split(',').length).toBeGreaterThanOrEqual(3);
      expect(env['REDIS_URL']).toBeUndefined();
      expect(env['DATABASE_URL']).toMatch(/^postgres:\/\/.*@postgres:5432\//);
      // Every gateway signs and checks with the same secrets: required, never generated per box.
      expect(env['DEVICE_TOKEN_SECRET']).toMatch(/^\$\{DEVICE_TOKEN_SECRET:\?/);
      expect(env['ADMIN_TOKEN']).toMatch(/^\$\{ADMIN_TOKEN:\?/);
      expect(dependsOn(g)).toEqual(expect.arrayContaining(['redis-cluster-init', 'postgres']));
      // HAProxy's X-Forwarded-For is believed, so each device's address counts in the login limit.
      expect(env['TRUSTED_PROXIES']).toBeTruthy();
    }
    // Postgres is the stack's own (not in the profile, so shared with the single-process stack).
    expect(compose.services['postgres']?.image).toMatch(/^postgres:/);
  });

  it('forms a Redis Cluster of 3 masters with one replica each, persistent and never evicting', () => {
    const nodes = named('redis-node-');
    expect(nodes).toHaveLength(6);
    for (const [, n] of nodes) {
      const cmd = String(n.command);
      expect(cmd).toContain('--cluster-enabled yes');
      expect(cmd).toContain('--appendonly yes');
      expect(cmd).toContain('--maxmemory-policy noeviction');
    }
    const init = String(compose.services['redis-cluster-init']!.command);
    for (const [name] of nodes) expect(init).toContain(`${name}:6379`);
    // 6 nodes with 1 replica each: 3 masters.
    expect(init).toMatch(/--cluster-replicas 1\b/);
    expect(dependsOn(compose.services['redis-cluster-init']!).sort()).toEqual(nodes.map(([n]) => n).sort());
  });

  it('puts HAProxy on deploy/haproxy.cfg, the config the tests and the bench use', () => {
    const haproxy = compose.services['haproxy']!;
    expect(haproxy.profiles).toContain('scale');
    const mount = haproxy.configs?.find((c) => c.target === '/usr/local/etc/haproxy/haproxy.cfg');
    expect(mount).toBeDefined();
    const config = compose.configs[mount!.source]!;
    expect(config.content).toBeUndefined();
    expect(root(config.file!.replace(/^\.\//, ''))).toBe(HAPROXY_CONFIG);
    // Each of the config's servers is one of the profile's gateways.
    const env = haproxy.environment!;
    expect([1, 2, 3].map((i) => env[`DIALHUB_GATEWAY_${i}`])).toEqual([
      'gateway-1:8080',
      'gateway-2:8080',
      'gateway-3:8080',
    ]);
    expect(haproxyCfg).toMatch(/bind "\$\{DIALHUB_BIND\}"/);
    expect(env['DIALHUB_BIND']).toBe(':8080');
    // Tests-only switches stay off in the deployment.
    expect(env['DIALHUB_PIN']).toBeUndefined();
    expect(dependsOn(haproxy).sort()).toEqual(['gateway-1', 'gateway-2', 'gateway-3']);
  });

  it('configures HAProxy for WebSockets: HTTP mode, long tunnels, readiness checks', () => {
    const lines = haproxyCfg.split('\n').map((l) => l.trim());
    expect(lines).toContain('mode http');
    const tunnel = lines.find((l) => l.startsWith('timeout tunnel '));
    // An agent's socket lives for a shift: hours, not the 60 s of an HTTP request.
    expect(tunnel).toMatch(/^timeout tunnel \d+h$/);
    expect(Number(/(\d+)h/.exec(tunnel!)![1])).toBeGreaterThanOrEqual(8);
    expect(lines).toContain('option httpchk GET /readyz');
    expect(lines).toContain('option forwardfor');
    expect(lines).toContain('balance leastconn');
    for (const i of [1, 2, 3])
      expect(lines).toContain(`server g${i} "\${DIALHUB_GATEWAY_${i}}" check inter 1s`);
    // No `option http-server-close`/`httpclose` (they would cut the upgraded connection).
    expect(haproxyCfg).not.toMatch(/http-server-close|httpclose/);
  });
});
