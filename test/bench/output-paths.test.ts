// The bench checks where it will write before it runs anything: a two-minute run must never be
// lost at its end because the --json file was empty, invalid or not writable.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkJsonTarget, checkReportTarget, OutputPathError } from '../../bench/lib/output-paths.js';
import { mergeJson } from '../../bench/lib/report.js';
import type { MachineInfo } from '../../bench/lib/machine.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-paths-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const machine = { cpus: 2 } as unknown as MachineInfo;
const result = { metrics: { x: 1 }, ratios: {}, config: {} };

describe('the --json path', () => {
  it('an existing empty file is accepted and merged into, not a crash', async () => {
    const path = join(dir, 'empty.json');
    await writeFile(path, '');
    await expect(checkJsonTarget(path)).resolves.toEqual({});
    await mergeJson(path, machine, 'engine', result);
    const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(written).toEqual({ machine, engine: result });
  });

  it('a whitespace-only file counts as empty', async () => {
    const path = join(dir, 'blank.json');
    await writeFile(path, ' \n\n');
    await expect(checkJsonTarget(path)).resolves.toEqual({});
  });

  it('an invalid file is reported before the run, naming the path', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "engine": ');
    const err = await checkJsonTarget(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutputPathError);
    expect((err as Error).message).toContain(path);
    expect((err as Error).message).toMatch(/not valid JSON/);
  });

  it('a file holding something other than an object is refused', async () => {
    const path = join(dir, 'array.json');
    await writeFile(path, '[1, 2]');
    await expect(checkJsonTarget(path)).rejects.toThrow(/not a JSON object/);
  });

  it('an existing results file keeps its other scenarios', async () => {
    const path = join(dir, 'results.json');
    await writeFile(path, JSON.stringify({ loop: { metrics: {}, ratios: {} } }));
    await expect(checkJsonTarget(path)).resolves.toHaveProperty('loop');
    await mergeJson(path, machine, 'engine', result);
    const written = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written).sort()).toEqual(['engine', 'loop', 'machine']);
  });

  it('a missing file in a missing folder is fine (the folder is created on write)', async () => {
    const path = join(dir, 'new', 'deeper', 'results.json');
    await expect(checkJsonTarget(path)).resolves.toEqual({});
  });

  it('a directory is refused', async () => {
    await mkdir(join(dir, 'adir'));
    await expect(checkJsonTarget(join(dir, 'adir'))).rejects.toThrow(/is a directory/);
  });

  it('a path under a regular file is refused', async () => {
    await writeFile(join(dir, 'file'), 'x');
    await expect(checkJsonTarget(join(dir, 'file', 'results.json'))).rejects.toThrow(/not a directory/);
  });
});

describe('the --report path', () => {
  it('names the HTML and Markdown files it will write', async () => {
    const target = await checkReportTarget(join(dir, 'out', 'report.html'));
    expect(target.html).toBe(join(dir, 'out', 'report.html'));
    expect(target.markdown).toBe(join(dir, 'out', 'report.md'));
  });

  it('a path without an extension gets both', async () => {
    const target = await checkReportTarget(join(dir, 'report'));
    expect(target).toEqual({ html: join(dir, 'report.html'), markdown: join(dir, 'report.md') });
  });

  it('a directory in the way is refused', async () => {
    await mkdir(join(dir, 'report.html'));
    await expect(checkReportTarget(join(dir, 'report.html'))).rejects.toThrow(/is a directory/);
  });
});
