// What a profiled process allocated, and where: a V8 sampling heap profile (the inspector's
// HeapProfiler.startSampling with collected objects kept, so it counts every allocation of the
// window, not only what was still alive at its end), summed by the function that allocated and
// by the package it belongs to. Divided by the calls of the window it says how many bytes one
// call makes the garbage collector deal with; bench/README.md "loop" says what it showed.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string };
  readonly selfSize: number;
  readonly children?: readonly HeapNode[];
}

export interface HeapProfile {
  readonly head: HeapNode;
}

export interface AllocationSite {
  /** `name file` for the project's code, `package` for a dependency, or a V8/Node internal. */
  readonly site: string;
  /** Share of the window's sampled bytes. */
  readonly pct: number;
}

export interface AllocationSummary {
  /** Bytes allocated over the window, as sampled (an estimate: one sample per ~8 KB). */
  readonly sampled_bytes: number;
  readonly calls: number;
  readonly kb_per_call: number;
  /**
   * By allocating function, the project's code only, the bench's own not included (a builtin's
   * allocation counts to its caller).
   */
  readonly own: readonly AllocationSite[];
  /** By package (a dependency), project file, or runtime. */
  readonly packages: readonly AllocationSite[];
}

const DEPENDENCY = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//;

export function summarizeHeapProfile(profile: HeapProfile, calls: number, topN: number): AllocationSummary {
  const root = `${process.cwd()}/`;
  const own = new Map<string, number>();
  const packages = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, key: string, bytes: number) => m.set(key, (m.get(key) ?? 0) + bytes);
  const stack: HeapNode[] = [profile.head];
  for (let node = stack.pop(); node; node = stack.pop()) {
    stack.push(...(node.children ?? []));
    if (node.selfSize === 0) continue;
    total += node.selfSize;
    const { functionName, url } = node.callFrame;
    // A module's URL (tsx, plain Node) or its path (vitest's module runner).
    const path = url.startsWith('file://') ? fileURLToPath(url) : url;
    const dependency = DEPENDENCY.exec(path)?.[1];
    if (dependency) add(packages, dependency, node.selfSize);
    else if (path.startsWith(root)) {
      const file = path.slice(root.length);
      add(packages, file, node.selfSize);
      // The project's code as bench/lib/cpu-profile.ts counts it: not the bench's own probes.
      if (!file.startsWith('bench/')) add(own, `${functionName || '(anonymous)'} ${file}`, node.selfSize);
    } else add(packages, url.startsWith('node:') ? url : functionName || '(runtime)', node.selfSize);
  }
  const ranked = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, topN)
      .map(([site, bytes]) => ({ site, pct: round((bytes / total) * 100, 1) }));
  return {
    sampled_bytes: total,
    calls,
    kb_per_call: calls > 0 ? round(total / calls / 1024, 1) : Number.NaN,
    own: ranked(own),
    packages: ranked(packages),
  };
}

export async function summarizeHeapProfileFile(
  path: string,
  calls: number,
  topN = 25,
): Promise<AllocationSummary> {
  return summarizeHeapProfile(JSON.parse(await readFile(path, 'utf8')) as HeapProfile, calls, topN);
}
