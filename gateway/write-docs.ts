// `npm run docs`: rewrite the README's generated sections (gateway/docs.ts) from the code.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withSections } from './docs.js';

const readme = fileURLToPath(new URL('../README.md', import.meta.url));
const before = await readFile(readme, 'utf8');
const after = withSections(before);
if (after !== before) await writeFile(readme, after);
process.stdout.write(after === before ? 'README.md is up to date\n' : 'README.md rewritten\n');
