// A sorted set with Redis ZSET semantics: members ordered by score, equal scores by member bytes
// (member ids here are ASCII, where JS string order equals byte order). The memory store's
// queues, schedules and indexes all use it, so its order is the Redis store's order.
import { createRequire } from 'node:module';

type Entry = readonly [score: number, member: string];

/** The part of sorted-btree's BTree this set uses. */
interface Tree {
  set(key: Entry, value: undefined): boolean;
  delete(key: Entry): boolean;
  minKey(): Entry | undefined;
  keys(): IterableIterator<Entry>;
  clear(): void;
}

// sorted-btree is CommonJS with its class on `default`; load it the way Node sees it.
const { default: BTree } = createRequire(import.meta.url)('sorted-btree') as {
  default: new (entries: undefined, compare: (a: Entry, b: Entry) => number) => Tree;
};

const compare = (a: Entry, b: Entry): number => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

export class SortedSet {
  readonly #scores = new Map<string, number>();
  readonly #tree: Tree = new BTree(undefined, compare);

  get size(): number {
    return this.#scores.size;
  }

  score(member: string): number | undefined {
    return this.#scores.get(member);
  }

  has(member: string): boolean {
    return this.#scores.has(member);
  }

  /** ZADD (NX when `onlyNew`). Returns true if the member is new. */
  add(member: string, score: number, onlyNew = false): boolean {
    const old = this.#scores.get(member);
    if (old !== undefined) {
      if (onlyNew || old === score) return false;
      this.#tree.delete([old, member]);
    }
    this.#scores.set(member, score);
    this.#tree.set([score, member], undefined);
    return old === undefined;
  }

  /** ZREM. Returns true if the member was there. */
  remove(member: string): boolean {
    const old = this.#scores.get(member);
    if (old === undefined) return false;
    this.#scores.delete(member);
    this.#tree.delete([old, member]);
    return true;
  }

  first(): Entry | undefined {
    return this.#tree.minKey();
  }

  /** ZRANGEBYSCORE -inf max LIMIT 0 limit */
  upTo(max: number, limit: number): Entry[] {
    const out: Entry[] = [];
    for (const key of this.#tree.keys()) {
      if (out.length >= limit || key[0] > max) break;
      out.push(key);
    }
    return out;
  }

  /** ZRANGE 0 count-1 */
  head(count: number): Entry[] {
    const out: Entry[] = [];
    for (const key of this.#tree.keys()) {
      if (out.length >= count) break;
      out.push(key);
    }
    return out;
  }

  entries(): Entry[] {
    return [...this.#tree.keys()];
  }

  clear(): void {
    this.#scores.clear();
    this.#tree.clear();
  }
}
