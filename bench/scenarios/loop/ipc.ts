// Request/reply over the Node IPC channel between the orchestrating process and its children
// (agent workers, servers under test). Each child exposes a typed API object; the parent calls its
// methods by name and awaits the reply. Children are forked with tsx, so they run the TypeScript
// sources directly, and they never outlive the parent: a closed IPC channel makes them exit.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

/** An API a child serves: methods taking at most one JSON argument and returning a promise. */
export type ChildApi<A> = { [K in keyof A]: (arg: never) => Promise<unknown> };

type Params<F> = F extends (...args: infer P) => Promise<unknown> ? P : never;
type Result<F> = F extends (...args: never) => Promise<infer R> ? R : never;

/** Long enough for the slowest request (loading leads, connecting a thousand sockets). */
const CALL_TIMEOUT_MS = 120_000;

interface Request {
  readonly id: number;
  readonly method: string;
  readonly arg: unknown;
}

type Reply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** The first message a child sends: its API is installed and it takes requests. */
const READY = 'ready';

/** Every API has it: the child releases what it holds, replies, then exits. */
const SHUTDOWN = 'shutdown';

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** How long a child may take to load (tsx compiles it) and install its API. */
const READY_TIMEOUT_MS = 60_000;

export class ChildHandle<A extends ChildApi<A>> {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #gone: Error | undefined;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#gone = new Error(`${name} exited (${signal ?? `code ${code}`})`);
        for (const p of this.#pending.values()) {
          clearTimeout(p.timer);
          p.reject(this.#gone);
        }
        this.#pending.clear();
        resolve();
      });
    });
    child.on('message', (msg: Reply) => {
      const p = this.#pending.get(msg.id);
      if (!p) return;
      this.#pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg.value);
      else p.reject(new Error(`${name}: ${msg.error}`));
    });
  }

  /**
   * Fork `entry` (a .ts module) under tsx with `args` as its JSON argument; resolves once it has
   * installed its API. A child that dies while loading rejects with its exit status.
   */
  static async fork<A extends ChildApi<A>>(
    name: string,
    entry: URL,
    args: unknown,
    nodeFlags: readonly string[] = [],
  ): Promise<ChildHandle<A>> {
    const child = fork(entry, [JSON.stringify(args)], {
      // Resolved here, so the child finds tsx whatever its working directory.
      execArgv: [...nodeFlags, '--import', import.meta.resolve('tsx')],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const handle = new ChildHandle<A>(name, child);
    const timeoutMs = READY_TIMEOUT_MS;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${name} did not start within ${timeoutMs} ms`)),
          timeoutMs,
        );
        const onMessage = (msg: unknown) => {
          if (msg !== READY) return;
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve();
        };
        child.on('message', onMessage);
        void handle.#exited.then(() => {
          clearTimeout(timer);
          reject(handle.#gone ?? new Error(`${name} exited while starting`));
        });
      });
    } catch (err) {
      await handle.kill();
      throw err;
    }
    return handle;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#gone === undefined;
  }

  /** Call `method` in the child; rejects on its error, its exit, or no reply within 2 minutes. */
  call<K extends keyof A & string>(method: K, ...args: Params<A[K]>): Promise<Result<A[K]>> {
    return this.#request(method, args[0], CALL_TIMEOUT_MS) as Promise<Result<A[K]>>;
  }

  #request(method: string, arg: unknown, timeoutMs: number): Promise<unknown> {
    if (this.#gone) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}.${method} gave no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      const request: Request = { id, method, arg };
      this.#child.send(request, (err) => {
        if (!err) return;
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(err);
      });
    });
  }

  /**
   * Ask the child to shut down (release its sockets, connections and keys), then make sure it is
   * gone: SIGKILL if it has not exited within `graceMs`. Never throws.
   */
  async close(graceMs = 15_000): Promise<void> {
    if (this.alive) {
      const asked = this.#request(SHUTDOWN, undefined, graceMs).catch(() => undefined);
      await Promise.race([
        asked.then(() => this.#exited),
        new Promise((r) => setTimeout(r, graceMs).unref()),
      ]);
    }
    await this.kill();
  }

  /** SIGKILL (by pid, this child only) unless it has already exited, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.alive) this.#child.kill('SIGKILL');
    await this.#exited;
  }
}

/**
 * The child side: install `api`, tell the parent, and serve requests until told to shut down.
 * The parent owns the lifecycle, so Ctrl-C (sent to the whole process group) is ignored here and
 * a vanished parent ends the child.
 */
export function serve<A extends ChildApi<A>>(api: A): void {
  const send = (msg: unknown, then?: () => void) => {
    process.send?.(msg, undefined, undefined, () => then?.());
  };
  process.on('SIGINT', () => undefined);
  process.on('disconnect', () => process.exit(1));
  process.on('message', (msg: Request) => {
    const method = (api as unknown as Record<string, ((arg: unknown) => Promise<unknown>) | undefined>)[
      msg.method
    ];
    const reply = (r: Reply) => send(r, msg.method === SHUTDOWN ? () => process.exit(0) : undefined);
    if (!method) {
      reply({ id: msg.id, ok: false, error: `no method ${msg.method}` });
      return;
    }
    // Through a promise, so a method that throws synchronously is answered like one that rejects.
    Promise.resolve(msg.arg)
      .then((arg) => method.call(api, arg))
      .then(
        (value) => reply({ id: msg.id, ok: true, value: value ?? null }),
        (err: unknown) =>
          reply({
            id: msg.id,
            ok: false,
            error: err instanceof Error ? (err.stack ?? err.message) : String(err),
          }),
      );
  });
  send(READY);
}

/** The JSON argument a child was forked with. */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}
