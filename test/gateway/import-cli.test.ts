// The import CLI end to end: `npm run import -- FILE --campaign ID ...` as a child process against
// a real gateway (Redis, Postgres) started here, with a login token from the environment and with
// an API key and --tenant: the file streamed to the import API, progress on stderr, the final
// record as JSON on stdout, the rejects CSV written beside the file (or where --rejects says),
// and a refused import exiting non-zero with the API's error code.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminGateway, TEST_PASSWORD } from '../support/admin-gateway.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'gateway/cli/import.ts');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in its own process group, ended (the group) if it outlives the timeout. */
function cli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(TSX, [CLI, ...args], {
      cwd: ROOT,
      detached: true,
      // eslint-disable-next-line no-restricted-syntax -- not configuration: handed on to the child
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      fail(new Error(`the CLI ran over ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

describe('import CLI', () => {
  let g: AdminGateway;
  let token: string;
  let apiKey: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dialhub-import-cli-'));
    g = await AdminGateway.start();
    await g.seedTenant('acme', [{ id: 'boss', role: 'owner' }]);
    const login = await request(g.url)
      .post('/api/v1/auth/login')
      .send({ tenantId: 'acme', email: 'boss@acme.test', password: TEST_PASSWORD })
      .expect(200);
    token = (login.body as { accessToken: string }).accessToken;
    const key = await request(g.url)
      .post('/api/v1/tenants/acme/api-keys')
      .set('Authorization', `Bearer ${token}`)
      .send({ name: 'crm', role: 'admin' })
      .expect(201);
    apiKey = (key.body as { key: string }).key;
    for (const c of ['cli', 'cli2']) {
      await request(g.url)
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', `Bearer ${token}`)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
  }, 60_000);
  afterAll(async () => {
    await g?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('streams a file in, prints progress and the final record, and writes the rejects beside the file', async () => {
    const lines = ['Name;Mobile;Ref'];
    for (let i = 0; i < 3000; i++) {
      const n = String(i).padStart(4, '0');
      lines.push(i % 100 === 7 ? `Bad ${i};12345;r${i}` : `Lead ${i};(212) 555-${n};r${i}`);
    }
    lines.push('Again;212.555.0000;dup');
    const file = join(dir, 'leads.csv');
    await writeFile(file, lines.join('\r\n'));
    const run = await cli(
      [
        file,
        '--campaign',
        'cli',
        '--url',
        g.url,
        '--country',
        'US',
        '--map',
        JSON.stringify({ phones: ['Mobile'], name: ['Name'], externalRef: 'Ref' }),
        '--poll',
        '50',
      ],
      { DIALHUB_TOKEN: token },
    );
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      import: Record<string, unknown>;
      delimiter: string;
      mapping: unknown;
    };
    expect(out.delimiter).toBe(';');
    expect(out.mapping).toEqual({ phones: ['Mobile'], name: ['Name'], externalRef: 'Ref' });
    expect(out.import).toMatchObject({
      status: 'done',
      rowsRead: 3001,
      queued: 2970,
      rejected: 30,
      duplicates: 1,
    });
    expect(run.stderr).toMatch(/import \d+: 3,001 rows read, 2,970 queued, .*: done/);
    expect(run.stderr).toContain(`rejects: ${join(dir, 'leads.rejects.csv')}`);
    const rejects = (await readFile(join(dir, 'leads.rejects.csv'), 'utf8'))
      .replace(/^\ufeff/, '')
      .split('\r\n');
    expect(rejects[0]).toBe('row,column,code,severity,detail,value');
    expect(rejects[1]).toMatch(/^9,Mobile,PHONE_INVALID,error,/);
    expect(rejects.filter((l) => l.includes('PHONE_INVALID'))).toHaveLength(30);
    expect(rejects.at(-2)).toMatch(/^3002,,DUPLICATE_IN_FILE,error,.*\(row 2\)/);
    const leads = await request(g.url)
      .get('/api/v1/tenants/acme/campaigns/cli/leads')
      .query({ limit: 2 })
      .set('Authorization', `Bearer ${token}`)
      .expect(200);
    expect((leads.body as { items: { phone: string; name: string }[] }).items[0]).toMatchObject({
      phone: '+12125550000',
      name: 'Lead 0',
    });
  });

  it('takes an API key with --tenant and --rejects', async () => {
    const file = join(dir, 'small.csv');
    await writeFile(file, 'Name,Phone\nAmy,+1 415 555 0100\nBad,0\n');
    const rejectsPath = join(dir, 'out', '..', 'small-problems.csv');
    const run = await cli([
      file,
      '--campaign',
      'cli2',
      '--tenant',
      'acme',
      '--url',
      g.url,
      '--token',
      apiKey,
      '--rejects',
      rejectsPath,
    ]);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as { import: unknown }).import).toMatchObject({ queued: 1, rejected: 1 });
    expect(await readFile(join(dir, 'small-problems.csv'), 'utf8')).toContain('3,Phone,PHONE_INVALID,error');
  });

  it('exits non-zero with the error code when the import is refused', async () => {
    const file = join(dir, 'nophone.csv');
    await writeFile(file, 'Name,City\nAmy,Boston\n');
    const refused = await cli([file, '--campaign', 'cli', '--url', g.url], { DIALHUB_TOKEN: token });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('error IMPORT_INVALID:');
    expect(refused.stdout).toBe('');
    const unknown = await cli([file, '--campaign', 'nope', '--url', g.url], { DIALHUB_TOKEN: token });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('error CAMPAIGN_UNKNOWN:');
    const badToken = await cli([
      file,
      '--campaign',
      'cli',
      '--tenant',
      'acme',
      '--url',
      g.url,
      '--token',
      'nonsense',
    ]);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toContain('error UNAUTHENTICATED:');
    const noToken = await cli([file, '--campaign', 'cli', '--url', g.url]);
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('DIALHUB_TOKEN');
  });
});
