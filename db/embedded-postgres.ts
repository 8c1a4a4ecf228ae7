// Embedded Postgres for the zero-setup mode: PGlite (Postgres compiled to WebAssembly, in this
// process) persisted in a data folder and served over the Postgres wire protocol on a local TCP
// port, so the ordinary `pg` driver and knex talk to it exactly as to a real server and every
// code path above the connection URL stays the same.
//
// PGlite runs one query at a time; pglite-socket multiplexes connections onto it, keeping each
// open transaction to its own connection until it ends. Its default of one connection would
// drop the second connection of a pool, so we allow several; keep the knex pool at or below
// `maxConnections`. Good for one process and light load, not for the bench.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';

/**
 * Postgres settings for a small, one-process database: PGlite's defaults are a server's (128 MB
 * of shared buffers inside the WebAssembly heap, which never shrinks). A dialer's zero-setup
 * working set (campaigns, the day's leads and outcomes) fits in far less; the operating system's
 * page cache still holds the data files.
 */
const START_PARAMS = [
  // PGlite's own defaults (single-user mode, no background workers), then ours.
  ...['--single', '-F', '-O', '-j', '-c', 'search_path=public', '-c', 'exit_on_error=false'],
  ...['-c', 'log_checkpoints=false', '-c', 'max_worker_processes=0', '-c', 'max_parallel_workers=0'],
  ...[
    '-c',
    'max_parallel_workers_per_gather=0',
    '-c',
    'io_method=sync',
    '-c',
    'max_parallel_maintenance_workers=0',
  ],
  ...['-c', 'shared_buffers=16MB', '-c', 'wal_buffers=1MB', '-c', 'temp_buffers=2MB'],
  ...['-c', 'work_mem=2MB', '-c', 'maintenance_work_mem=8MB'],
];

/**
 * V8 runs PGlite's WebAssembly on its baseline compiler (Liftoff) only, without tiering hot
 * functions up to TurboFan. The tier-up jobs run on V8's background threads and take their working
 * memory from those threads' glibc arenas, which keep it once freed: the few blocks still in use
 * there stop an arena from shrinking. An idle zero-setup gateway held 85-120 MiB in four such
 * arenas with 2 MiB of it in use (malloc_stats; malloc_trim gave 50-70 MiB back), more as the start
 * ran more SQL (migrations, demo seed, rebuild) and more functions got hot enough to tier up.
 * Without tier-up the idle process is about 90 MiB smaller (bench: startup) and starts no slower
 * (no compile jobs compete for the CPU); a query-heavy run (lead inserts and table scans) is about
 * 1.5x slower, which the zero-setup mode, one process and light load, accepts. Set before PGlite
 * compiles its module, which reads them; only in zero-setup mode, and for this process's other
 * WebAssembly too (Node's own small modules).
 */
const WASM_FLAGS = ['--no-wasm-dynamic-tiering', '--no-wasm-tier-up'];

/**
 * Create the database files in a child process: initdb needs several hundred MB of WebAssembly
 * memory, which a process never gives back, so doing it in the gateway's own process would leave
 * it at three times its idle size for as long as it runs.
 */
async function initDataDir(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const script = [
    `const { PGlite } = require(${JSON.stringify(entry)});`,
    `PGlite.create(${JSON.stringify(dataDir)}, { startParams: ${JSON.stringify(START_PARAMS)} })`,
    '  .then((db) => db.close())',
    '  .catch((err) => { console.error(err); process.exit(1); });',
  ].join('\n');
  await promisify(execFile)(process.execPath, ['-e', script], { timeout: 120_000 });
}

export interface EmbeddedPostgresOptions {
  /** Folder holding the database files; created when missing, reused when present. */
  readonly dataDir: string;
  readonly host?: string;
  /** 0 (default) lets the OS pick a free port; the URL names the one chosen. */
  readonly port?: number;
  /** Client connections served at once. Default 8. */
  readonly maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** postgres://postgres@host:port/postgres */
  readonly url: string;
  /** Stop serving, then close the database (flushing it to the data folder). Idempotent. */
  close(): Promise<void>;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const host = options.host ?? '127.0.0.1';
  await mkdir(options.dataDir, { recursive: true });
  await initDataDir(options.dataDir);
  for (const flag of WASM_FLAGS) setFlagsFromString(flag);
  // Loaded here, not at the top: a gateway on a real Postgres never reads PGlite's JavaScript.
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  const db = await PGlite.create(options.dataDir, { startParams: START_PARAMS });
  const server = new PGLiteSocketServer({
    db,
    host,
    port: options.port ?? 0,
    maxConnections: options.maxConnections ?? 8,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  // "host:port" with the port the OS assigned when asked for 0.
  const port = server.getServerConn().slice(host.length + 1);
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `postgres://postgres@${urlHost}:${port}/postgres`,
    close() {
      closing ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return closing;
    },
  };
}
