// How the production bundle is built (`npm run build`, gateway/build.ts): an entry point and
// everything it imports become one ES module named after it, plus chunks for what is imported
// dynamically, with the Lua scripts next to it. Also used by the bench to run a process of its
// own as production runs code (plain JavaScript, no TypeScript loader): the import scenario.
import { cpSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Packages that load files of their own at run time (PGlite's WebAssembly, pino's transports) or
 * optional native and database drivers knex never uses: not bundled, resolved from node_modules.
 */
export const BUNDLE_EXTERNAL = [
  '@electric-sql/pglite',
  '@electric-sql/pglite-socket',
  'pino',
  'pino-http',
  // native bindings
  '@node-rs/argon2',
  // knex's other dialects, pg's native binding, ws's optional add-ons
  'sqlite3',
  'better-sqlite3',
  'mysql',
  'mysql2',
  'mariadb',
  'mariadb/callback',
  'oracledb',
  'tedious',
  'pg-query-stream',
  'pg-native',
  'bufferutil',
  'utf-8-validate',
];

/**
 * Bundle `entry` into `dist` (emptied first): `<dist>/<entry name>.js`, its chunks and source
 * maps, and the Lua scripts in `<dist>/lua/`. Answers the bytes written.
 */
export async function buildBundle(entry: string, dist: string): Promise<number> {
  rmSync(dist, { recursive: true, force: true });
  const result = await build({
    entryPoints: [entry],
    outdir: dist,
    entryNames: '[name]',
    // What is imported dynamically (the CSV import's readers: csv-parse, iconv-lite, chardet, the
    // zone data) becomes chunks of its own in dist/chunks/, read the first time an import runs,
    // not at every start.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: 'linked',
    external: BUNDLE_EXTERNAL,
    // CommonJS packages inside an ES module bundle still call require().
    banner: {
      js: "import { createRequire as __dialhubRequire } from 'node:module'; const require = __dialhubRequire(import.meta.url);",
    },
    // Whitespace and syntax only: a third less source for Node to read and parse at every start,
    // while function names stay readable in stack traces and CPU profiles.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    metafile: true,
  });
  // engine/redis/scripts.ts reads its scripts from ./lua/ next to the module that runs it.
  cpSync(`${root}engine/redis/lua`, `${dist}/lua`, { recursive: true });
  return Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
}
