// Where a profiled process spent its CPU: the top functions by self time in a V8 .cpuprofile (as
// written by the inspector's Profiler or node --cpu-prof), so a hot spot is a line in the report
// rather than a screenshot of a flame graph.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { round } from './stats.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface HotFunction {
  /** `name file:line`, paths relative to the working directory. */
  readonly fn: string;
  readonly self_ms: number;
  /** Share of the busy (non-idle) samples. */
  readonly self_pct: number;
}

export interface OwnFunction {
  readonly fn: string;
  /** Share of the busy samples with this function anywhere on the stack (self + callees). */
  readonly total_pct: number;
}

export interface ProfileSummary {
  readonly sampled_ms: number;
  /** Time the process was on CPU: everything but `(idle)`. */
  readonly busy_ms: number;
  /** By self time: where the CPU actually went (natives like writev included). */
  readonly top: readonly HotFunction[];
  /** The project's own functions (not node_modules, not node:) by inclusive time: who caused it. */
  readonly own: readonly OwnFunction[];
}

const IDLE = '(idle)';

function label(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  // Our .ts files run transpiled by tsx, so their line numbers are not the source's: name only.
  if (url.startsWith(root) && !url.includes('/node_modules/')) return `${name} ${url.slice(root.length)}`;
  return `${name} ${url.replace(/^.*\/node_modules\//, '')}:${lineNumber + 1}`;
}

/** Code of the project under test: under the working directory, not a dependency, not the bench. */
const isOwn = (node: ProfileNode, root: string) =>
  node.callFrame.url.startsWith(root) &&
  !node.callFrame.url.includes('/node_modules/') &&
  !node.callFrame.url.startsWith(`${root}bench/`);

export function summarizeProfile(profile: CpuProfile, topN: number): ProfileSummary {
  const root = `${pathToFileURL(process.cwd()).href}/`;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<string, number>();
  const ownUs = new Map<string, number>();
  let sampled = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    const key = label(node, root);
    sampled += dt;
    if (key === IDLE) idle += dt;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
    // Inclusive time: once per function per sample, however deep it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame || !isOwn(frame, root)) continue;
      const own = label(frame, root);
      if (seen.has(own)) continue;
      seen.add(own);
      ownUs.set(own, (ownUs.get(own) ?? 0) + dt);
    }
  });
  const busy = sampled - idle;
  const top = [...selfUs]
    .filter(([key]) => key !== IDLE)
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([fn, us]) => ({ fn, self_ms: round(us / 1000, 1), self_pct: round((us / busy) * 100, 1) }));
  const own = [...ownUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([fn, us]) => ({ fn, total_pct: round((us / busy) * 100, 1) }));
  return { sampled_ms: round(sampled / 1000, 1), busy_ms: round(busy / 1000, 1), top, own };
}

export async function summarizeProfileFile(path: string, topN = 25): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, topN);
}
