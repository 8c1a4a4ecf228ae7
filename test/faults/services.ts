// The fault suite's own servers, so faults can be real without touching anyone else's data:
// a private redis-server (it may be flushed, or restarted from a snapshot a second old), a
// private Postgres database on the shared server, and a TCP proxy in front of Postgres that can
// cut every connection and refuse new ones for a while (Postgres "stopped" for the gateways,
// while the observer still reads it directly).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { freePort } from '../support/ports.js';
import { POSTGRES_URL } from '../support/postgres.js';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Every process group the suite started, killed when this process exits however it exits (a
// worker torn down mid-test never leaves a gateway, floor or redis-server behind).
const groups = new Set<number>();
function killAll(): void {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  groups.clear();
}
process.once('exit', killAll);
// A signal would end this process without 'exit' handlers: end the children, then exit as the
// signal would have.
for (const [signal, code] of [
  ['SIGTERM', 143],
  ['SIGINT', 130],
  ['SIGHUP', 129],
] as const) {
  process.once(signal, () => {
    killAll();
    process.exit(code);
  });
}

/** Remember a detached child's process group until it exits. */
export function track(child: ChildProcess): void {
  const { pid } = child;
  if (pid === undefined) return;
  groups.add(pid);
  child.once('exit', () => groups.delete(pid));
}

/** Kill a detached child's whole process group (tsx runs node under it) and wait for its exit. */
export async function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((r) => child.once('exit', r));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // already gone
  }
  await exited;
}

export type RedisClient = ReturnType<typeof createClient>;

/** A redis-server of the suite's own, no persistence except the snapshots it is told to take. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'dialhub-faults-redis-'));
  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
        '--dbfilename',
        'snapshot.rdb',
      ],
      { stdio: 'ignore', detached: true },
    );
    track(child);
    this.child = child;
    for (let i = 0; i < 200; i++) {
      try {
        await this.command(['PING']);
        return;
      } catch {
        await sleep(25);
      }
    }
    throw new Error('private redis-server did not start');
  }

  /** One command on a short-lived connection. */
  async command(args: string[]): Promise<unknown> {
    const client = createClient({ url: this.url, socket: { reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await client.sendCommand(args);
    } finally {
      client.destroy();
    }
  }

  async runId(): Promise<string> {
    const info = String(await this.command(['INFO', 'server']));
    return /run_id:(\w+)/.exec(info)?.[1] ?? '';
  }

  /** Take a snapshot now (what a restart that loses later writes comes back with). */
  async snapshot(): Promise<void> {
    await this.command(['SAVE']);
  }

  /** Crash (no save) and start again from the last snapshot: the writes after it are lost. */
  async restartFromSnapshot(downMs: number): Promise<void> {
    if (this.child) await killGroup(this.child);
    await sleep(downMs);
    await this.launch();
  }

  /** Delete every key matching, in one UNLINK. */
  async unlinkMatching(pattern: string): Promise<number> {
    const client = createClient({ url: this.url });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const keys: string[] = [];
      for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(...batch);
      return keys.length > 0 ? await client.unlink(keys) : 0;
    } finally {
      client.destroy();
    }
  }

  async stop(): Promise<void> {
    if (this.child) await killGroup(this.child);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A Postgres database of the suite's own on the shared server (the gateways migrate it). */
export class PrivateDatabase {
  readonly name = `faults_${randomBytes(5).toString('hex')}`;
  readonly pool: pg.Pool;
  private constructor() {
    this.pool = new pg.Pool({ connectionString: this.url(5432), max: 3 });
  }

  static async create(): Promise<PrivateDatabase> {
    const db = new PrivateDatabase();
    await adminQuery(`CREATE DATABASE ${db.name}`);
    return db;
  }

  url(port: number): string {
    return `postgres://postgres@127.0.0.1:${port}/${this.name}`;
  }

  async drop(): Promise<void> {
    await this.pool.end().catch(() => undefined);
    await adminQuery(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
  }
}

/** A TCP proxy to Postgres whose link can be cut: every connection closed, new ones refused. */
export class CuttableProxy {
  private readonly sockets = new Set<Socket>();
  private cutUntil = 0;
  private readonly server: Server;
  port = 0;

  private constructor(targetPort: number) {
    this.server = createServer((client) => {
      if (Date.now() < this.cutUntil) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  static async start(targetPort: number): Promise<CuttableProxy> {
    const proxy = new CuttableProxy(targetPort);
    proxy.port = await new Promise<number>((resolve) =>
      proxy.server.listen(0, '127.0.0.1', () => resolve((proxy.server.address() as { port: number }).port)),
    );
    return proxy;
  }

  /** Postgres is unreachable through the proxy for `ms`: live connections reset, new ones refused. */
  cut(ms: number): void {
    this.cutUntil = Date.now() + ms;
    for (const s of this.sockets) s.destroy();
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
