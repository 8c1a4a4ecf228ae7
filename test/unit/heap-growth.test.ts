// The cap on heap growth while imports run (gateway/heap.ts): held by the first import, given back
// to V8 (0) by the last one's release, whatever the order; a release called twice counts once.
import { describe, expect, it } from 'vitest';
import { heapGrowthHolds } from '../../gateway/heap.js';

describe('heap growth holds', () => {
  it('caps growth from the first hold to the last release, however imports overlap', () => {
    const set: number[] = [];
    const holds = heapGrowthHolds((p) => set.push(p));
    const first = holds.hold(100);
    const second = holds.hold(100);
    expect(set).toEqual([100]);
    first();
    first();
    expect(holds.holders).toBe(1);
    expect(set).toEqual([100]);
    second();
    expect(set).toEqual([100, 0]);
    expect(holds.holders).toBe(0);
    holds.hold(50)();
    expect(set).toEqual([100, 0, 50, 0]);
  });

  it('holds nothing at 0 (V8 decides)', () => {
    const set: number[] = [];
    const holds = heapGrowthHolds((p) => set.push(p));
    holds.hold(0)();
    expect(set).toEqual([]);
    expect(holds.holders).toBe(0);
  });
});
