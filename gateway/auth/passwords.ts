// Password hashing: argon2id with OWASP's minimum (19 MiB of memory, 2 passes, 1 lane), in
// @node-rs/argon2's thread pool so a login never blocks the event loop. The parameters live in
// the hash, so raising them later still verifies old hashes (and needsRehash says which).
import { hash, verify } from '@node-rs/argon2';

export const ARGON2_OPTIONS = {
  // Algorithm.Argon2id: a const enum, which verbatimModuleSyntax cannot import.
  algorithm: 2,
  memoryCost: 19_456, // KiB = 19 MiB
  timeCost: 2,
  parallelism: 1,
} as const;

export const MIN_PASSWORD_LENGTH = 12;
/** argon2 takes any length; a cap keeps a megabyte "password" from costing more than a login. */
export const MAX_PASSWORD_LENGTH = 1_024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

let dummy: Promise<string> | undefined;

/**
 * True when `password` matches `stored`. With no stored hash (unknown user, or one who has no
 * password) a dummy hash is still verified, so the answer takes as long either way and a login
 * does not reveal which e-mails exist.
 */
export async function verifyPassword(stored: string | null | undefined, password: string): Promise<boolean> {
  if (!stored) {
    dummy ??= hashPassword('dialhub dummy password, never valid');
    await verify(await dummy, password).catch(() => false);
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}
