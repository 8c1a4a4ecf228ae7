// The two secrets a gateway needs: the HMAC key of device tokens and the admin API's bearer
// token. Given in the environment they are used as they are; when unset (zero-setup mode) strong
// random values are generated once and kept in <DATA_DIR>/secrets.json, readable by the owner
// only, so device tokens and the admin token stay valid across restarts. Values are never logged.
import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from './config.js';

export const SECRETS_FILE = 'secrets.json';

const storedSchema = z.looseObject({
  deviceTokenSecret: z.string().min(32).optional(),
  adminToken: z.string().min(24).optional(),
});
type Stored = z.output<typeof storedSchema>;

export type SecretSource = 'env' | 'file';

export interface Secrets {
  readonly deviceTokenSecret: string;
  readonly adminToken: string;
  /** Where each came from: the environment, or the secrets file. */
  readonly sources: { readonly deviceTokenSecret: SecretSource; readonly adminToken: SecretSource };
  /** Absolute path of the secrets file (whether or not it was needed). */
  readonly file: string;
}

/** 256 random bits, URL-safe (43 characters). */
const generate = (): string => randomBytes(32).toString('base64url');

async function readStored(file: string): Promise<Stored | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; fix or delete it (devices will need new tokens)`);
  }
  const parsed = storedSchema.safeParse(json);
  // The issue paths only: the values themselves must not reach a terminal or a log.
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`${file} holds malformed secrets (${fields}); fix or delete it`);
  }
  return parsed.data;
}

/**
 * Write the file whole, mode 0600: a temp file, then either link it into place (creating: fails
 * with EEXIST if another process created the file meanwhile, so two first starts cannot end up
 * with different secrets) or rename it over the old one (adding a missing value).
 */
async function writeStored(file: string, stored: Stored, create: boolean): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await chmod(tmp, 0o600); // the mode above is filtered by the umask
    if (create) await link(tmp, file);
    else await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function loadSecrets(
  config: Pick<Config, 'DATA_DIR' | 'DEVICE_TOKEN_SECRET' | 'ADMIN_TOKEN'>,
): Promise<Secrets> {
  const dir = resolve(config.DATA_DIR);
  const file = join(dir, SECRETS_FILE);
  const fromEnv = { deviceTokenSecret: config.DEVICE_TOKEN_SECRET, adminToken: config.ADMIN_TOKEN };
  const sources = {
    deviceTokenSecret: fromEnv.deviceTokenSecret === undefined ? 'file' : 'env',
    adminToken: fromEnv.adminToken === undefined ? 'file' : 'env',
  } as const;
  if (fromEnv.deviceTokenSecret !== undefined && fromEnv.adminToken !== undefined) {
    return { deviceTokenSecret: fromEnv.deviceTokenSecret, adminToken: fromEnv.adminToken, sources, file };
  }

  await mkdir(dir, { recursive: true, mode: 0o700 });
  for (let attempt = 1; ; attempt++) {
    const stored = await readStored(file);
    const next: Stored = { ...stored };
    // Generate only what neither the environment nor the file has; keep what the file has.
    if (fromEnv.deviceTokenSecret === undefined) next.deviceTokenSecret ??= generate();
    if (fromEnv.adminToken === undefined) next.adminToken ??= generate();
    if (
      stored &&
      next.deviceTokenSecret === stored.deviceTokenSecret &&
      next.adminToken === stored.adminToken
    ) {
      await chmod(file, 0o600); // tighten a file someone loosened
    } else {
      try {
        await writeStored(file, next, stored === undefined);
      } catch (err) {
        // Another process created the file first: use its secrets.
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 3) continue;
        throw err;
      }
    }
    return {
      deviceTokenSecret: fromEnv.deviceTokenSecret ?? next.deviceTokenSecret!,
      adminToken: fromEnv.adminToken ?? next.adminToken!,
      sources,
      file,
    };
  }
}
