import { describe, expect, it } from 'vitest';
import { createNagleBatcher } from '../../gateway/nagle-batcher.js';

/** A store call the test finishes by hand. */
function manualRun() {
  const calls: { items: string[]; finish: (err?: Error) => void }[] = [];
  const run = (items: readonly string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        items: [...items],
        finish: (err) => (err ? reject(err) : resolve(items.map((i) => `done:${i}`))),
      });
    });
  return { calls, run };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('nagle batcher', () => {
  it('sends an idle group at once, before the event loop turns (no setImmediate wait)', async () => {
    const { calls, run } = manualRun();
    const batcher = createNagleBatcher((i: string) => i.split(':')[0]!, run);
    void batcher.submit('a:1');
    await Promise.resolve();
    expect(calls.map((c) => c.items)).toEqual([['a:1']]);
  });

  it('items submitted in one synchronous run share one call', async () => {
    const { calls, run } = manualRun();
    const batcher = createNagleBatcher((i: string) => i.split(':')[0]!, run);
    const answers = ['a:1', 'a:2', 'a:3'].map((i) => batcher.submit(i));
    await Promise.resolve();
    expect(calls.map((c) => c.items)).toEqual([['a:1', 'a:2', 'a:3']]);
    calls[0]!.finish();
    expect(await Promise.all(answers)).toEqual(['done:a:1', 'done:a:2', 'done:a:3']);
  });

  it('while a call is in flight, later items wait and go together when it returns', async () => {
    const { calls, run } = manualRun();
    const batcher = createNagleBatcher((i: string) => i.split(':')[0]!, run);
    const first = batcher.submit('a:1');
    await settle();
    const later = [batcher.submit('a:2')];
    await settle();
    later.push(batcher.submit('a:3'));
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    expect(await first).toBe('done:a:1');
    await settle();
    expect(calls.map((c) => c.items)).toEqual([['a:1'], ['a:2', 'a:3']]);
    calls[1]!.finish();
    expect(await Promise.all(later)).toEqual(['done:a:2', 'done:a:3']);
    // Idle again: the next item goes at once.
    void batcher.submit('a:4');
    await Promise.resolve();
    expect(calls.map((c) => c.items)).toEqual([['a:1'], ['a:2', 'a:3'], ['a:4']]);
  });

  it('groups do not wait for each other', async () => {
    const { calls, run } = manualRun();
    const batcher = createNagleBatcher((i: string) => i.split(':')[0]!, run);
    void batcher.submit('a:1');
    await settle();
    void batcher.submit('b:1');
    await Promise.resolve();
    expect(calls.map((c) => c.items)).toEqual([['a:1'], ['b:1']]);
  });

  it("a failed call rejects each of its items, and the group's next items still go", async () => {
    const { calls, run } = manualRun();
    const batcher = createNagleBatcher((i: string) => i.split(':')[0]!, run);
    const failing = [batcher.submit('a:1'), batcher.submit('a:2')];
    await settle();
    const next = batcher.submit('a:3');
    calls[0]!.finish(new Error('redis down'));
    for (const f of failing) await expect(f).rejects.toThrow('redis down');
    await settle();
    expect(calls[1]!.items).toEqual(['a:3']);
    calls[1]!.finish();
    expect(await next).toBe('done:a:3');
  });

  it('a run that throws synchronously rejects its items instead of escaping', async () => {
    const batcher = createNagleBatcher(
      () => 'g',
      () => {
        throw new Error('bad batch');
      },
    );
    await expect(batcher.submit('x')).rejects.toThrow('bad batch');
  });
});
