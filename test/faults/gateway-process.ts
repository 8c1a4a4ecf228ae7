// A real gateway process: the production entry point (gateway/main.ts) with its environment,
// on a fixed port so a restarted process is found where devices left it. Started detached, so
// a kill takes its whole process group; its log (stdout: pino) and stderr go to one file.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, createWriteStream, openSync, readFileSync } from 'node:fs';
import { killGroup, track } from './services.js';

export interface GatewayProcessOptions {
  readonly port: number;
  readonly env: Record<string, string>;
  readonly logFile: string;
}

export class GatewayProcess {
  private child: ChildProcess | undefined;
  /** When the process last died by a kill of ours (ms), and how often. */
  kills = 0;
  /** Extra environment for the next start (e.g. a host clock set ahead), until cleared. */
  extraEnv: Record<string, string> = {};
  constructor(private readonly options: GatewayProcessOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start and resolve once it serves (its banner is printed after listen). */
  async start(timeoutMs = 60_000): Promise<void> {
    const log = openSync(this.options.logFile, 'a');
    // The child inherits this environment (PATH, node options) plus the gateway's own settings.
    // eslint-disable-next-line no-restricted-syntax -- not configuration: handed on to the child
    const inherited = process.env;
    const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
      env: { ...inherited, ...this.options.env, ...this.extraEnv, PORT: String(this.options.port) },
      stdio: ['ignore', 'pipe', log],
      detached: true,
    });
    closeSync(log);
    track(child);
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      // The log's end goes in the error: a test's log folder is removed when the test ends.
      const failed = (why: string) =>
        new Error(`gateway ${why}; the end of ${this.options.logFile}:\n${logTail(this.options.logFile)}`);
      const timer = setTimeout(() => reject(failed('did not start in time')), timeoutMs);
      child.stdout?.pipe(createWriteStream(this.options.logFile, { flags: 'a' }));
      child.stdout?.on('data', (chunk: Buffer) => {
        if (out.length > 100_000) return;
        out += chunk.toString();
        if (out.includes('dialhub is running at')) {
          clearTimeout(timer);
          resolve();
        }
      });
      // 'close', not 'exit': its output has reached the log by then.
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        reject(failed(`exited at start (${code ?? signal})`));
      });
    });
    child.removeAllListeners('close');
  }

  /** SIGKILL the process group: no drain, no goodbye to devices, claims left half done. */
  async kill(): Promise<void> {
    if (!this.child) return;
    this.kills++;
    await killGroup(this.child, 'SIGKILL');
  }

  /** Whatever state it is in, make sure it is gone (for afterAll). */
  async dispose(): Promise<void> {
    if (this.child) await killGroup(this.child, 'SIGKILL');
  }
}

/** The last lines of a log file (up to 2 KB), or why it could not be read. */
function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2_048);
  } catch (err) {
    return `(unreadable: ${(err as Error).message})`;
  }
}
