// Calls to the store for one group (a campaign, a tenant) travel together, but only under load,
// as Nagle's algorithm does for TCP segments: when no call of the group is in flight, an item
// goes at once (at the end of the current task, so items submitted in one synchronous run share
// a call); while one is in flight, items wait and all of them go in one call when it returns.
// Hundreds of devices answering at once still become one script call per round trip instead of
// hundreds, and an idle campaign pays no wait at all.
//
// Why not "everything submitted in this tick, on setImmediate"? node-redis writes its pipeline on
// setImmediate too; a store call made inside a check-phase callback is written only on the next
// turn of the event loop, after that turn's poll phase has run every socket read that arrived
// meanwhile. Going from the submitting task writes the command in the same turn.
export interface NagleBatcher<I, O> {
  submit(item: I): Promise<O>;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

interface Group<I, O> {
  waiting: Waiting<I, O>[];
  /** A call of this group is in flight: new items wait for it. */
  busy: boolean;
  /** A microtask will send the waiting items (the group is idle). */
  queued: boolean;
}

export function createNagleBatcher<I, O>(
  groupOf: (item: I) => string,
  run: (items: readonly I[]) => Promise<readonly O[]>,
): NagleBatcher<I, O> {
  const groups = new Map<string, Group<I, O>>();

  function send(key: string, group: Group<I, O>): void {
    group.queued = false;
    const batch = group.waiting;
    if (batch.length === 0) {
      groups.delete(key);
      return;
    }
    group.waiting = [];
    group.busy = true;
    let call: Promise<readonly O[]>;
    try {
      call = run(batch.map((w) => w.item));
    } catch (err) {
      call = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    call
      .then(
        (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        group.busy = false;
        // What arrived meanwhile goes now, in one call; an empty group is forgotten.
        send(key, group);
      });
  }

  return {
    submit(item) {
      return new Promise<O>((resolve, reject) => {
        const key = groupOf(item);
        let group = groups.get(key);
        if (!group) {
          group = { waiting: [], busy: false, queued: false };
          groups.set(key, group);
        }
        group.waiting.push({ item, resolve, reject });
        if (!group.busy && !group.queued) {
          group.queued = true;
          const g = group;
          queueMicrotask(() => send(key, g));
        }
      });
    },
  };
}
