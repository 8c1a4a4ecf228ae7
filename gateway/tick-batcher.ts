// Calls made in the same tick travel together. Hundreds of devices answering at once become one
// store call per group (campaign, tenant) instead of hundreds of single-item script calls; each
// caller still gets its own result.
export interface TickBatcher<I, O> {
  submit(item: I): Promise<O>;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

export function createTickBatcher<I, O>(
  groupOf: (item: I) => string,
  run: (items: readonly I[]) => Promise<readonly O[]>,
): TickBatcher<I, O> {
  let groups = new Map<string, Waiting<I, O>[]>();
  let scheduled = false;

  function flush(): void {
    scheduled = false;
    const current = groups;
    groups = new Map();
    for (const waiting of current.values()) {
      run(waiting.map((w) => w.item)).then(
        (results) => waiting.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => waiting.forEach((w) => w.reject(err)),
      );
    }
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        const key = groupOf(item);
        let list = groups.get(key);
        if (!list) {
          list = [];
          groups.set(key, list);
        }
        list.push({ item, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
  };
}
