// `npm run bench:readme [-- PATH] [--check]`: regenerate README.md's performance table from a
// reference results file (default bench/results/reference.json), between the markers below, so
// the figures people read are the ones a command produced, never typed by hand. --check only
// says whether README.md is up to date (exit 1 if not).
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parseResultsText } from './lib/output-paths.js';
import { performanceBlock, replaceBlock } from './lib/readme-block.js';

const README = new URL('../README.md', import.meta.url);
const DEFAULT_REFERENCE = 'bench/results/reference.json';

const args = process.argv.slice(2);
const check = args.includes('--check');
const path = args.find((a) => !a.startsWith('--')) ?? DEFAULT_REFERENCE;
try {
  const doc = parseResultsText(path, await readFile(path, 'utf8'));
  const readme = await readFile(README, 'utf8');
  // Formatted as `npm run check` wants it, so a regenerated README passes the format check.
  const file = fileURLToPath(README);
  const next = await format(replaceBlock(readme, performanceBlock(doc, path)), {
    ...(await resolveConfig(file)),
    filepath: file,
  });
  if (check) {
    if (next !== readme) {
      process.stderr.write(
        `README.md's performance table is not generated from ${path}: run npm run bench:readme\n`,
      );
      process.exitCode = 1;
    }
  } else if (next !== readme) {
    await writeFile(README, next);
    process.stderr.write(`README.md: performance table regenerated from ${path}\n`);
  } else {
    process.stderr.write('README.md: performance table already up to date\n');
  }
} catch (err) {
  process.stderr.write(`bench:readme failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
