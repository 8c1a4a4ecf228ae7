// `npm run bench -- <scenario...> [options]` (see bench/cli.ts; `--help` lists the scenarios).
import { InvalidArgumentError } from 'commander';
import { main } from './cli.js';
import { OutputPathError } from './lib/output-paths.js';

try {
  await main(process.argv);
} catch (err: unknown) {
  // An interruption has already been reported by the signal handler and needs no stack trace.
  const interrupted = process.exitCode === 130;
  const plain = interrupted || err instanceof OutputPathError || err instanceof InvalidArgumentError;
  const detail = err instanceof Error ? (plain ? err.message : (err.stack ?? err.message)) : String(err);
  process.stderr.write(`bench ${interrupted ? 'stopped' : 'failed'}: ${detail}\n`);
  process.exitCode ||= 1;
}
