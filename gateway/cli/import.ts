// `npm run import -- FILE --campaign ID ...`: a CSV file of leads into a campaign through the
// import API. The file is streamed as the request body (never read whole), the import's record
// is polled while it uploads (progress on stderr), the final record is printed as JSON on
// stdout, and the rejects report is written beside the file. Exit code 0 when the import is done,
// 1 with the API's error code on stderr when it is refused or fails, 2 on a usage error.
import { createReadStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, dirname, extname, join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';

interface Options {
  readonly campaign: string;
  readonly tenant?: string;
  readonly map?: string;
  readonly country?: string;
  readonly zone?: string;
  readonly url: string;
  readonly token?: string;
  readonly rejects?: string;
  readonly poll: number;
}

interface ImportRecord {
  readonly id: string;
  readonly fileName: string;
  readonly status: 'running' | 'done' | 'failed';
  readonly rowsRead: number;
  readonly queued: number;
  readonly alreadyQueued: number;
  readonly duplicates: number;
  readonly dnc: number;
  readonly rejected: number;
  readonly warnings: number;
}

class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The tenant of a login token (a JWT's `tid` claim); API keys carry none: give --tenant. */
function tenantOfToken(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { tid?: unknown };
    return typeof claims.tid === 'string' ? claims.tid : undefined;
  } catch {
    return undefined;
  }
}

function send(
  url: URL,
  init: {
    method: string;
    token: string;
    headers?: Record<string, string | number>;
    body?: NodeJS.ReadableStream;
  },
): Promise<IncomingMessage> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method, headers: { Authorization: `Bearer ${init.token}`, ...init.headers } },
      resolve,
    );
    req.on('error', reject);
    if (init.body) {
      init.body.on('error', (err: Error) => req.destroy(err));
      init.body.pipe(req);
    } else req.end();
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A JSON answer, or the API's error as a CliError. */
async function json<T>(res: IncomingMessage): Promise<T> {
  const text = (await readAll(res)).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError('BAD_ANSWER', `HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  }
  if ((res.statusCode ?? 500) >= 400) {
    const err = (body as { error?: { code?: string; message?: string } }).error;
    throw new CliError(err?.code ?? `HTTP_${res.statusCode}`, err?.message ?? `HTTP ${res.statusCode}`);
  }
  return body as T;
}

const fmt = (n: number) => n.toLocaleString('en-US');
const line = (r: ImportRecord) =>
  `import ${r.id}: ${fmt(r.rowsRead)} rows read, ${fmt(r.queued)} queued, ${fmt(r.alreadyQueued)} already queued, ` +
  `${fmt(r.duplicates)} duplicates, ${fmt(r.dnc)} DNC, ${fmt(r.rejected)} rejected, ${fmt(r.warnings)} warnings`;

export async function runImport(file: string, o: Options, log: (s: string) => void): Promise<unknown> {
  const token = o.token;
  if (!token)
    throw new CliError('USAGE', 'Give --token or set DIALHUB_TOKEN (a login token or an API key)', 2);
  const tenant = o.tenant ?? tenantOfToken(token);
  if (!tenant) throw new CliError('USAGE', 'Give --tenant (an API key does not say its tenant)', 2);
  const size = (await stat(file).catch(() => undefined))?.size;
  if (size === undefined) throw new CliError('FILE_UNREADABLE', `Cannot read ${file}`, 2);
  const base = new URL(`/api/v1/tenants/${encodeURIComponent(tenant)}/`, o.url);
  const campaignPath = `campaigns/${encodeURIComponent(o.campaign)}/imports`;
  // A name only this run uses, to find its import record while the file uploads.
  const fileName = `${basename(file)} (cli ${process.pid}-${Date.now()})`.slice(-255);

  const url = new URL(campaignPath, base);
  url.searchParams.set('fileName', fileName);
  if (o.map !== undefined) url.searchParams.set('mapping', o.map);
  if (o.country !== undefined) url.searchParams.set('defaultCountry', o.country);
  if (o.zone !== undefined) url.searchParams.set('defaultTimeZone', o.zone);

  let sent = 0;
  const body = createReadStream(file);
  body.on('data', (c) => (sent += c.length));
  const answer = send(url, {
    method: 'POST',
    token,
    headers: { 'Content-Type': 'text/csv', 'Content-Length': size },
    body,
  });

  // Poll the record while the upload runs: found by its name in the campaign's newest imports.
  let id: string | undefined;
  let finished = false;
  const poll = (async () => {
    while (!finished) {
      await new Promise((r) => setTimeout(r, o.poll));
      if (finished) break;
      try {
        if (id === undefined) {
          const list = await json<{ items: ImportRecord[] }>(
            await send(new URL(`${campaignPath}?limit=20`, base), { method: 'GET', token }),
          );
          id = list.items.find((r) => r.fileName === fileName)?.id;
        }
        if (id !== undefined) {
          const { import: r } = await json<{ import: ImportRecord }>(
            await send(new URL(`imports/${id}`, base), { method: 'GET', token }),
          );
          if (!finished) log(`${line(r)} (${Math.round((sent / Math.max(size, 1)) * 100)}% sent)`);
        }
      } catch {
        // Progress is best effort: the upload's answer says how it ended.
      }
    }
  })();

  let result: { import: ImportRecord } & Record<string, unknown>;
  try {
    result = await json<typeof result>(await answer);
  } finally {
    finished = true;
    await poll;
  }
  const r = result.import;
  log(`${line(r)}: ${r.status}`);
  if (r.duplicates + r.dnc + r.rejected + r.warnings > 0) {
    const path = o.rejects ?? join(dirname(file), `${basename(file, extname(file))}.rejects.csv`);
    const res = await send(new URL(`imports/${r.id}/rejects?format=csv`, base), { method: 'GET', token });
    if ((res.statusCode ?? 500) >= 400) await json(res);
    await writeFile(path, await readAll(res));
    log(`rejects: ${path}`);
  }
  if (r.status !== 'done') throw new CliError('IMPORT_FAILED', `import ${r.id} ended ${r.status}`);
  return result;
}

const positiveInt = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive whole number');
  return n;
};

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run import --')
    .description('Import a CSV file of leads into a campaign through the dialhub admin API')
    .argument('<file>', 'the CSV file (streamed, never read whole)')
    .requiredOption('--campaign <id>', 'the campaign to import into')
    .option('--tenant <id>', "the tenant (default: a login token's own)")
    .option(
      '--map <json>',
      'the column mapping as JSON, e.g. \'{"phones":["Mobile","Home"],"name":["First","Last"]}\'',
    )
    .option('--country <cc>', "country of the file's national formats (default: the tenant plan's)")
    .option('--zone <tz>', "time zone for rows whose zone is not known (default: the tenant plan's)")
    .option('--url <url>', 'the gateway', 'http://localhost:8080')
    .addOption(new Option('--token <token>', 'a login token or an API key').env('DIALHUB_TOKEN'))
    .option('--rejects <path>', 'where to write the rejects CSV (default: FILE.rejects.csv beside the file)')
    .option('--poll <ms>', 'progress interval', positiveInt, 1000)
    .showHelpAfterError();
  program.parse();
  const [file] = program.args as [string];
  try {
    const result = await runImport(file, program.opts<Options>(), (s) => process.stderr.write(`${s}\n`));
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      process.exitCode = err.exitCode;
    } else {
      process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    }
  }
}

await main();
