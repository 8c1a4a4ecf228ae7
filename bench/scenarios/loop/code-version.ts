// Which code a result measured. engine/, db/ and gateway/ change while people work, so a loop
// result names the commit and any uncommitted change to them (read-only git commands).
import { execFileSync } from 'node:child_process';

export interface CodeVersion {
  readonly commit: string;
  /** Files of the code under test (engine, db, gateway) that differ from the commit. */
  readonly uncommitted: readonly string[];
}

/** The checkout's commit and uncommitted changes under engine, db and gateway ('unknown' outside git). */
export function codeVersion(): CodeVersion {
  const git = (...args: string[]) =>
    execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const commit = git('rev-parse', 'HEAD').trim();
    const uncommitted = git('status', '--porcelain', '--', 'engine', 'db', 'gateway')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(3));
    return { commit, uncommitted };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}
