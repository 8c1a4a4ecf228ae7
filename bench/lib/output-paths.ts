// Where a run will write, checked before the run starts: a long run must never be lost at its end
// because the --json file was empty, invalid or not writable, or the report's folder cannot be
// made. An existing empty file counts as "no results yet" (a user who `touch`es the file first
// means exactly that); an invalid one is refused, since overwriting it would destroy something.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';

export class OutputPathError extends Error {
  override readonly name = 'OutputPathError';
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The file may be written: it is absent or a writable regular file, and its nearest existing
 * ancestor is a writable directory (missing folders are created when writing).
 */
async function checkWritable(path: string, what: string): Promise<boolean> {
  const s = await statOrUndefined(path);
  if (s?.isDirectory()) throw new OutputPathError(`${what} ${path} is a directory; give a file name`);
  if (s && !s.isFile()) throw new OutputPathError(`${what} ${path} is not a regular file`);
  let dir = dirname(resolve(path));
  for (;;) {
    const d = await statOrUndefined(dir);
    if (d) {
      if (!d.isDirectory()) throw new OutputPathError(`${what} ${path}: ${dir} is not a directory`);
      break;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  try {
    await access(s ? path : dir, constants.W_OK);
  } catch {
    throw new OutputPathError(`${what} ${path}: cannot write ${s ? 'the file' : `in ${dir}`}`);
  }
  return s !== undefined;
}

/** Parse the text of a results file: empty means none yet; anything but an object is refused. */
export function parseResultsText(path: string, text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new OutputPathError(
      `--json ${path} exists but is not valid JSON (${(err as Error).message}); move it away or choose another path`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OutputPathError(`--json ${path} is not a JSON object; refusing to overwrite it`);
  }
  return parsed as Record<string, unknown>;
}

/** Check the --json target; returns what it holds now ({} when absent or empty). */
export async function checkJsonTarget(path: string): Promise<Record<string, unknown>> {
  const exists = await checkWritable(path, '--json');
  return exists ? parseResultsText(path, await readFile(path, 'utf8')) : {};
}

export interface ReportTarget {
  readonly html: string;
  readonly markdown: string;
}

/** `--report x.html`, `x.md` or `x`: the report is written as both x.html and x.md. */
export async function checkReportTarget(path: string): Promise<ReportTarget> {
  const ext = extname(path);
  const base = ext === '.html' || ext === '.md' ? path.slice(0, -ext.length) : path;
  const target = { html: `${base}.html`, markdown: `${base}.md` };
  await checkWritable(target.html, '--report');
  await checkWritable(target.markdown, '--report');
  return target;
}
