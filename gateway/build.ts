// `npm run build`: the production bundle. The gateway and everything it imports become one ES
// module, dist/main.js (plus its source map), with the Lua scripts next to it in dist/lua/, so
// `node dist/main.js` starts without compiling TypeScript and without resolving hundreds of
// module files: what a restart after a crash costs (bench: `startup`). Modules only some requests
// need are imported dynamically and split into dist/chunks/, so a start does not read them. Packages that load files
// of their own at run time (PGlite's WebAssembly, pino's transports) or optional native and
// database drivers knex never uses stay external and are resolved from node_modules.
import { cpSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--outdir <folder directly under the repository>` (tests build a private copy); default dist/.
const outdir = process.argv[process.argv.indexOf('--outdir') + 1];
const dist = process.argv.includes('--outdir') && outdir ? resolve(root, outdir) : `${root}dist`;
if (dirname(dist) !== resolve(root))
  throw new Error('--outdir must be a folder directly under the repository');

const EXTERNAL = [
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

rmSync(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [`${root}gateway/main.ts`],
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
  external: EXTERNAL,
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
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(`${dist}/main.js built (${(bytes / 1e6).toFixed(1)} MB with its source map)\n`);
