// Progress for people watching a run: a bar (cli-progress) when stderr is a terminal, plain
// lines otherwise (CI logs, `2> file`), at most one every few seconds plus the last one, so a log
// stays readable. Progress never goes to stdout, which holds the tables.
import cliProgress from 'cli-progress';

export interface Progress {
  /** Set the count done so far. */
  update(done: number): void;
  /** Finish the bar (or print the last line). */
  stop(): void;
}

const PLAIN_EVERY_MS = 5000;

export function createProgress(
  label: string,
  total: number,
  unit: string,
  tty = process.stderr.isTTY,
): Progress {
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: `  ${label} [{bar}] {value}/{total} ${unit} {percentage}% eta {eta_formatted}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
    return { update: (done) => bar.update(Math.min(done, total)), stop: () => bar.stop() };
  }
  let last = 0;
  let done = 0;
  const print = () =>
    process.stderr.write(
      `  ${label}: ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit}\n`,
    );
  return {
    update(n) {
      done = n;
      const now = Date.now();
      if (now - last >= PLAIN_EVERY_MS) {
        last = now;
        print();
      }
    },
    stop: print,
  };
}

/** A bar over wall time: for a phase that simply lasts `ms` (an idle window, a floor run). */
export async function waitWithProgress(label: string, ms: number, signal: AbortSignal): Promise<void> {
  const progress = createProgress(label, Math.ceil(ms / 1000), 's');
  const started = Date.now();
  try {
    while (Date.now() - started < ms) {
      signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, Math.min(1000, ms - (Date.now() - started))));
      progress.update(Math.floor((Date.now() - started) / 1000));
    }
  } finally {
    progress.stop();
  }
}
