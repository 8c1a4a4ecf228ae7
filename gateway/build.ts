// `npm run build`: the production bundle. The gateway and everything it imports become one ES
// module, dist/main.js (plus its source map), with the Lua scripts next to it in dist/lua/, so
// `node dist/main.js` starts without compiling TypeScript and without resolving hundreds of
// module files: what a restart after a crash costs (bench: `startup`). Modules only some requests
// need are imported dynamically and split into dist/chunks/, so a start does not read them. Packages that load files
// of their own at run time (PGlite's WebAssembly, pino's transports) or optional native and
// database drivers knex never uses stay external and are resolved from node_modules.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundle } from './bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
// `--outdir <folder directly under the repository>` (tests build a private copy); default dist/.
const outdir = process.argv[process.argv.indexOf('--outdir') + 1];
const dist = process.argv.includes('--outdir') && outdir ? resolve(root, outdir) : `${root}dist`;
if (dirname(dist) !== resolve(root))
  throw new Error('--outdir must be a folder directly under the repository');

const bytes = await buildBundle(`${root}gateway/main.ts`, dist);
process.stdout.write(`${dist}/main.js built (${(bytes / 1e6).toFixed(1)} MB with its source map)\n`);
