// Embedded Postgres for the zero-setup mode: PGlite (Postgres compiled to WebAssembly, in this
// process) persisted in a data folder and served over the Postgres wire protocol on a local TCP
// port, so the ordinary `pg` driver and knex talk to it exactly as to a real server and every
// code path above the connection URL stays the same.
//
// PGlite runs one query at a time; pglite-socket multiplexes connections onto it, keeping each
// open transaction to its own connection until it ends. Its default of one connection would
// drop the second connection of a pool, so we allow several; keep the knex pool at or below
// `maxConnections`. Good for one process and light load, not for the bench.
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

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
  const db = await PGlite.create(options.dataDir);
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
