// The loop bench's allocation summary (bench/lib/heap-profile.ts): read from a real sampling heap
// profile of this process, and from a hand-made one for the grouping by package.
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { summarizeHeapProfile } from '../../bench/lib/heap-profile.js';
import type { HeapProfile } from '../../bench/lib/heap-profile.js';

const MB = 1024 * 1024;

/** Allocates about `bytes` in arrays of numbers, each garbage at once. */
function allocateRows(bytes: number): number {
  let kept = 0;
  for (let done = 0; done < bytes; done += 8 * 1024) {
    const row = new Array<number>(1024).fill(done); // 1,024 x 8 B
    kept += row.length;
  }
  return kept;
}

describe('the allocation summary of a sampling heap profile', () => {
  it('counts what a function allocated, the collected objects too, per call of the window', async () => {
    const session = new Session();
    session.connect();
    try {
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
      allocateRows(32 * MB);
      const { profile } = await session.post('HeapProfiler.stopSampling');
      const summary = summarizeHeapProfile(profile, 1_000, 10);

      // 32 MB over 1,000 calls is about 32 KB per call; sampling estimates it, within 25 %.
      expect(summary.sampled_bytes).toBeGreaterThan(24 * MB);
      expect(summary.kb_per_call).toBeGreaterThan(24);
      expect(summary.kb_per_call).toBeLessThan(48);
      expect(summary.own[0]).toMatchObject({ site: 'allocateRows test/bench/heap-profile.test.ts' });
      expect(summary.own[0]!.pct).toBeGreaterThan(80);
      expect(summary.packages[0]).toMatchObject({ site: 'test/bench/heap-profile.test.ts' });
    } finally {
      session.disconnect();
    }
  });

  it('groups a dependency by its package and the runtime apart from the project', () => {
    const root = `${pathToFileURL(process.cwd()).href}/`;
    const frame = (functionName: string, url: string) => ({ functionName, url });
    const profile: HeapProfile = {
      head: {
        callFrame: frame('(root)', ''),
        selfSize: 0,
        children: [
          {
            callFrame: frame('emit', `${root}node_modules/socket.io/dist/socket.js`),
            selfSize: 600,
            children: [
              { callFrame: frame('', `${root}gateway/agent/agent-hub.ts`), selfSize: 200 },
              {
                callFrame: frame('encode', `${root}node_modules/@redis/client/dist/lib/resp.js`),
                selfSize: 100,
              },
            ],
          },
          { callFrame: frame('writeGeneric', 'node:internal/stream_base_commons'), selfSize: 100 },
        ],
      },
    };
    const summary = summarizeHeapProfile(profile, 4, 10);
    expect(summary.sampled_bytes).toBe(1_000);
    expect(summary.kb_per_call).toBeCloseTo(1_000 / 4 / 1024, 1);
    expect(summary.packages).toEqual([
      { site: 'socket.io', pct: 60 },
      { site: 'gateway/agent/agent-hub.ts', pct: 20 },
      { site: '@redis/client', pct: 10 },
      { site: 'node:internal/stream_base_commons', pct: 10 },
    ]);
    expect(summary.own).toEqual([{ site: '(anonymous) gateway/agent/agent-hub.ts', pct: 20 }]);
  });

  it("counts the bench's own probe by file but not as the project's code, as the CPU summary does", () => {
    const root = `${pathToFileURL(process.cwd()).href}/`;
    const profile: HeapProfile = {
      head: {
        callFrame: { functionName: '(root)', url: '' },
        selfSize: 0,
        children: [
          {
            callFrame: { functionName: 'serverMark', url: `${root}bench/scenarios/loop/server-probe.ts` },
            selfSize: 300,
          },
          {
            callFrame: { functionName: 'transition', url: `${root}gateway/calls/agent-machine.ts` },
            selfSize: 100,
          },
        ],
      },
    };
    const summary = summarizeHeapProfile(profile, 1, 10);
    expect(summary.packages).toEqual([
      { site: 'bench/scenarios/loop/server-probe.ts', pct: 75 },
      { site: 'gateway/calls/agent-machine.ts', pct: 25 },
    ]);
    expect(summary.own).toEqual([{ site: 'transition gateway/calls/agent-machine.ts', pct: 25 }]);
  });
});
