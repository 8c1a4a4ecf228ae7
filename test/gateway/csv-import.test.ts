// CSV import of the four ordinary exports issue 7 names, through the admin API on real Redis and
// Postgres: an Excel file with `;` and a BOM, a US export in national formats with a second phone
// column, Indonesian and Malaysian numbers, a Latin-1 file. Asserted: the exact numbers, zones and
// names imported, every other row in the rejects (row, column, code), the counts of the import's
// record, the queue, a second import of the same file changing nothing, and tenancy.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CampaignRef } from '../../engine/ids.js';
import { importPreviewSchema } from '../../gateway/http/import-routes.js';
import type { ImportPreview } from '../../gateway/http/import-routes.js';
import { AdminGateway, TEST_ADMIN_TOKEN } from '../support/admin-gateway.js';

const fixture = (name: string) => readFileSync(resolve(import.meta.dirname, '../fixtures/imports', name));

interface Reject {
  row: number;
  column: string;
  code: string;
  severity: string;
  value: string;
}
interface Lead {
  id: string;
  phone: string;
  name: string;
  timeZone: string[] | null;
  fields: Record<string, string>;
}

describe('CSV import', () => {
  let g: AdminGateway;
  let owner: string;
  let otherOwner: string;
  const api = () => request(g.url);

  beforeAll(async () => {
    g = await AdminGateway.start();
    await g.seedTenant('acme', [
      { id: 'boss', role: 'owner' },
      { id: 'sue', role: 'supervisor' },
    ]);
    await g.seedTenant('other', [{ id: 'oz', role: 'owner' }]);
    const login = (tenantId: string, id: string) => g.bearer(tenantId, id);
    owner = await login('acme', 'boss');
    otherOwner = await login('other', 'oz');
    for (const c of ['uk', 'us', 'asia', 'fr']) {
      await api()
        .put(`/api/v1/tenants/acme/campaigns/${c}`)
        .set('Authorization', owner)
        .send({ name: c, status: 'active', window: ALWAYS_OPEN })
        .expect(200);
    }
    // A number the US file holds is on the do-not-call list (written nationally there).
    await api()
      .post('/api/v1/tenants/acme/dnc')
      .set('Authorization', owner)
      .send({ phones: ['+16465550111'] });
  }, 60_000);
  afterAll(() => g.stop());

  async function upload(campaign: string, file: string, query: Record<string, string>, type = 'text/csv') {
    const res = await api()
      .post(`/api/v1/tenants/acme/campaigns/${campaign}/imports`)
      .query(query)
      .set('Authorization', owner)
      .set('Content-Type', type)
      .send(fixture(file));
    return res;
  }
  async function rejectsOf(importId: string): Promise<Reject[]> {
    const res = await api()
      .get(`/api/v1/tenants/acme/imports/${importId}/rejects`)
      .set('Authorization', owner)
      .expect(200);
    return (res.body as { items: Reject[] }).items;
  }
  async function leadsOf(campaign: string): Promise<Lead[]> {
    const res = await api()
      .get(`/api/v1/tenants/acme/campaigns/${campaign}/leads`)
      .query({ limit: 100 })
      .set('Authorization', owner)
      .expect(200);
    return (res.body as { items: Lead[] }).items;
  }
  const brief = (rs: Reject[]) => rs.map((r) => [r.row, r.column, r.code, r.severity]);

  it('an Excel export: BOM, `;`, CRLF, quoted separators and line breaks, UK national formats', async () => {
    const res = await upload('uk', 'excel-semicolon-bom.csv', { defaultCountry: 'GB' });
    expect(res.status).toBe(201);
    const body = res.body as { import: Record<string, unknown>; encoding: string; delimiter: string };
    expect(body).toMatchObject({ encoding: 'utf-8', delimiter: ';' });
    expect(body.import).toMatchObject({
      status: 'done',
      rowsRead: 7,
      queued: 3,
      duplicates: 1,
      rejected: 3,
      dnc: 0,
      warnings: 0,
    });
    const leads = await leadsOf('uk');
    expect(leads.map((l) => [l.phone, l.name, l.timeZone])).toEqual([
      ['+442079460018', 'Anna Smith', ['Europe/London']],
      ['+442079460019', 'Brown; Bob', ['Europe/London']],
      ['+442079460020', 'Chloé Dubois', ['Europe/London']],
    ]);
    expect(leads[0]!.fields).toEqual({ Notiz: 'Prefers mornings; ask for Anna' });
    expect(leads[2]!.fields).toEqual({ Notiz: 'Line one line two' });
    expect(brief(await rejectsOf(body.import.id as string))).toEqual([
      [6, '', 'DUPLICATE_IN_FILE', 'error'],
      [7, 'Telefon', 'PHONE_INVALID', 'error'],
      [8, 'Zeitzone', 'TIME_ZONE_INVALID', 'error'],
      [10, 'Telefon', 'PHONE_MISSING', 'error'],
    ]);
    const stats = await g.gateway.deps.store.stats(
      { tenantId: 'acme', campaignId: 'uk' } as CampaignRef,
      Date.now(),
    );
    expect(stats.ready).toBe(3);
  });

  it('a US export: national formats, a second phone column, +10000000 refused, no zone for toll-free, DNC scrubbed', async () => {
    const res = await upload('us', 'us-national.csv', { defaultCountry: 'US' });
    expect(res.status).toBe(201);
    const job = (res.body as { import: Record<string, unknown> }).import;
    expect(job).toMatchObject({ rowsRead: 7, queued: 4, dnc: 1, rejected: 2, duplicates: 0, warnings: 1 });
    const leads = await leadsOf('us');
    expect(leads.map((l) => [l.phone, l.name, l.timeZone, l.fields])).toEqual([
      ['+12125550123', 'Amy Adams', ['America/New_York'], { externalRef: 'C-1', City: 'New York' }],
      [
        '+12125550198',
        'Ben Baker',
        ['America/New_York'],
        { externalRef: 'C-2', ext: '12', City: 'Boston, MA' },
      ],
      ['+14155550132', 'Cat Clark', ['America/Los_Angeles'], { externalRef: 'C-3', City: 'San Francisco' }],
      ['+442079460022', 'Flo Ford', ['Europe/London'], { externalRef: 'C-6', City: 'London' }],
    ]);
    // The second phone column is the lead's number 2, in its own zone.
    const amy = await api()
      .get(`/api/v1/tenants/acme/leads/${leads[0]!.id}`)
      .set('Authorization', owner)
      .expect(200);
    expect((amy.body as { lead: { numbers: unknown } }).lead.numbers).toEqual([
      { position: 1, phone: '+12125550123', timeZone: ['America/New_York'], current: true },
      { position: 2, phone: '+13105550147', timeZone: ['America/Los_Angeles'], current: false },
    ]);
    const rejects = await rejectsOf(job.id as string);
    expect(brief(rejects)).toEqual([
      [4, 'Phone', 'PHONE_INVALID', 'warning'],
      [5, 'Phone', 'PHONE_INVALID', 'error'],
      [6, '', 'ZONE_UNKNOWN', 'error'],
      [8, '', 'DNC', 'error'],
    ]);
    expect(rejects[1]!.value).toBe('+10000000');
  });

  it('a toll-free number gets the default time zone when one is given, never none', async () => {
    await api()
      .put('/api/v1/tenants/acme/campaigns/tollfree')
      .set('Authorization', owner)
      .send({ name: 'tf', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    const res = await upload('tollfree', 'us-national.csv', {
      defaultCountry: 'US',
      defaultTimeZone: 'America/Chicago',
    });
    expect((res.body as { import: Record<string, unknown> }).import).toMatchObject({
      queued: 5,
      rejected: 1,
    });
    const leads = await leadsOf('tollfree');
    expect(leads.find((l) => l.phone === '+18005550199')?.timeZone).toEqual(['America/Chicago']);
  });

  it('Indonesian and Malaysian numbers, tab separated, Indonesian headers, 00 and + prefixes', async () => {
    const res = await upload('asia', 'id-my.tsv', { defaultCountry: 'ID' }, 'text/plain');
    expect(res.status).toBe(201);
    const body = res.body as { import: Record<string, unknown>; delimiter: string; mapping: unknown };
    expect(body.delimiter).toBe('\t');
    expect(body.mapping).toEqual({ phones: ['No HP', 'Telepon Kantor'], name: ['Nama'] });
    expect(body.import).toMatchObject({ rowsRead: 7, queued: 6, duplicates: 1, rejected: 0 });
    const leads = await leadsOf('asia');
    expect(leads.map((l) => [l.phone, l.timeZone])).toEqual([
      ['+6281234567890', ['Asia/Jakarta']],
      ['+6281312345678', ['Asia/Jakarta']],
      ['+62361234567', ['Asia/Makassar']],
      ['+60123456789', ['Asia/Kuching']],
      ['+60321611234', ['Asia/Kuching']],
      ['+60198765432', ['Asia/Kuching']],
    ]);
    expect(leads[1]!.fields).toEqual({ Kota: 'Jakarta' });
    const second = await g.db.leads.numbers('acme', leads[1]!.id);
    expect(second?.map((n) => [n.phone, n.timeZone])).toEqual([
      ['+6281312345678', ['Asia/Jakarta']],
      ['+622123456789', ['Asia/Jakarta']],
    ]);
    expect(brief(await rejectsOf(body.import.id as string))).toEqual([[8, '', 'DUPLICATE_IN_FILE', 'error']]);
  });

  it('a Latin-1 (Windows-1252) file as a multipart upload: names read right, first and last joined', async () => {
    const res = await api()
      .post('/api/v1/tenants/acme/campaigns/fr/imports')
      .set('Authorization', owner)
      .field('defaultCountry', 'FR')
      .attach('file', fixture('latin1.csv'), 'clients.csv');
    expect(res.status).toBe(201);
    const body = res.body as { import: Record<string, unknown>; encoding: string };
    expect(body.encoding).toBe('windows-1252');
    expect(body.import).toMatchObject({ fileName: 'clients.csv', rowsRead: 4, queued: 3, rejected: 1 });
    const leads = await leadsOf('fr');
    expect(leads.map((l) => [l.phone, l.name, l.timeZone, l.fields.Société])).toEqual([
      ['+33142685300', 'José Müller', ['Europe/Paris'], 'Café Crème'],
      ['+33612345678', 'François Gaëlle', ['Europe/Paris'], 'Œuvres & Fils'],
      ['+33491551234', 'Zoë Ñúñez', ['Europe/Paris'], 'Société Générale'],
    ]);
    // The rejects report as a CSV file to download.
    const csv = await api()
      .get(`/api/v1/tenants/acme/imports/${body.import.id as string}/rejects`)
      .query({ format: 'csv' })
      .set('Authorization', owner)
      .expect(200)
      .expect('Content-Type', /text\/csv/);
    expect(csv.text).toBe(
      '\ufeffrow,column,code,severity,detail,value\r\n' +
        '5,Téléphone,PHONE_INVALID,error,Not a valid phone number for the default country or in international form,06 12\r\n',
    );
  });

  it('importing the same file again queues nothing twice and says so', async () => {
    const res = await upload('uk', 'excel-semicolon-bom.csv', { defaultCountry: 'GB' });
    const body = res.body as { import: Record<string, unknown>; sameFileAs: string | null };
    expect(body.import).toMatchObject({
      rowsRead: 7,
      queued: 0,
      alreadyQueued: 3,
      duplicates: 1,
      rejected: 3,
    });
    expect(body.sameFileAs).not.toBeNull();
    expect(await leadsOf('uk')).toHaveLength(3);
    const list = await api()
      .get('/api/v1/tenants/acme/campaigns/uk/imports')
      .set('Authorization', owner)
      .expect(200);
    expect((list.body as { items: unknown[] }).items).toHaveLength(2);
  });

  it('refuses a file with no phone column, a mapping naming missing columns, and other media types', async () => {
    const none = await api()
      .post('/api/v1/tenants/acme/campaigns/uk/imports')
      .set('Authorization', owner)
      .set('Content-Type', 'text/csv')
      .send('a,b\n1,2\n');
    expect(none.status).toBe(400);
    expect((none.body as { error: { code: string } }).error.code).toBe('IMPORT_INVALID');
    const mapped = await upload('uk', 'latin1.csv', { mapping: JSON.stringify({ phones: ['Mobile'] }) });
    expect((mapped.body as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'IMPORT_INVALID',
      message: expect.stringContaining('Mobile') as string,
    });
    const json = await api()
      .post('/api/v1/tenants/acme/campaigns/uk/imports')
      .set('Authorization', owner)
      .send({ rows: [] });
    expect(json.status).toBe(415);
    expect((json.body as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const country = await upload('uk', 'latin1.csv', { defaultCountry: 'XX' });
    expect((country.body as { error: { code: string } }).error.code).toBe('PAYLOAD_INVALID');
  });

  it('is tenant-scoped and for admins: another tenant and a supervisor are refused', async () => {
    const list = await api()
      .get('/api/v1/tenants/acme/campaigns/uk/imports')
      .set('Authorization', owner)
      .expect(200);
    const id = (list.body as { items: { id: string }[] }).items[0]!.id;
    await api().get(`/api/v1/tenants/acme/imports/${id}`).set('Authorization', otherOwner).expect(403);
    await api().get(`/api/v1/tenants/other/imports/${id}`).set('Authorization', otherOwner).expect(404);
    await api()
      .post('/api/v1/tenants/acme/campaigns/uk/imports')
      .set('Authorization', otherOwner)
      .set('Content-Type', 'text/csv')
      .send(fixture('latin1.csv'))
      .expect(403);
    await api()
      .post('/api/v1/tenants/acme/campaigns/uk/imports')
      .set('Authorization', `Bearer ${TEST_ADMIN_TOKEN}`)
      .set('Content-Type', 'text/csv')
      .send(fixture('latin1.csv'))
      .expect(403);
  });

  describe('preview', () => {
    const previewUrl = (campaign: string) => `/api/v1/tenants/acme/campaigns/${campaign}/imports/preview`;
    async function preview(campaign: string, file: string | Buffer, query: Record<string, string>) {
      const res = await api()
        .post(previewUrl(campaign))
        .query(query)
        .set('Authorization', owner)
        .set('Content-Type', 'text/csv')
        .send(typeof file === 'string' ? fixture(file) : file)
        .expect(200);
      // The contract the admin page is built against, checked by its own zod schema.
      return importPreviewSchema.parse(res.body);
    }
    const problemsOf = (p: ImportPreview) =>
      p.sample.flatMap((r) => r.problems.map((x) => [r.row, x.column, x.code, x.severity]));
    async function importsOf(campaign: string): Promise<number> {
      const res = await api()
        .get(`/api/v1/tenants/acme/campaigns/${campaign}/imports`)
        .set('Authorization', owner)
        .expect(200);
      return (res.body as { items: unknown[] }).items.length;
    }

    it('reads the first rows as the import does: the same leads, zones and problems, importing nothing', async () => {
      const before = await importsOf('us');
      const p = await preview('us', 'us-national.csv', { defaultCountry: 'US' });
      expect(p).toMatchObject({
        encoding: 'utf-8',
        delimiter: ',',
        header: ['Customer ID', 'First Name', 'Last Name', 'Phone', 'Phone 2', 'City'],
        mapping: {
          phones: ['Phone', 'Phone 2'],
          name: ['First Name', 'Last Name'],
          externalRef: 'Customer ID',
        },
      });
      expect(p.sample[0]).toEqual({
        row: 2,
        lead: {
          phone: '+12125550123',
          timeZones: ['America/New_York'],
          name: 'Amy Adams',
          fields: { externalRef: 'C-1', City: 'New York' },
          alternates: [{ phone: '+13105550147', timeZones: ['America/Los_Angeles'] }],
        },
        problems: [],
      });
      expect(p.sample[1]!.lead).toMatchObject({ phone: '+12125550198', fields: { ext: '12' } });
      // C-3: the first column's number is bad, the second one's is imported (a warning).
      expect(p.sample[2]).toMatchObject({ row: 4, lead: { phone: '+14155550132' } });
      // C-7 is on the do-not-call list: not imported.
      expect(p.sample.find((r) => r.row === 8)).toMatchObject({ lead: null, problems: [{ code: 'DNC' }] });
      // The import of the same file (done above) found exactly these problems on these rows.
      const list = await api()
        .get('/api/v1/tenants/acme/campaigns/us/imports')
        .set('Authorization', owner)
        .expect(200);
      const first = (list.body as { items: { id: string }[] }).items.at(-1)!.id;
      const imported = (await rejectsOf(first))
        .filter((r) => r.code !== 'DUPLICATE_IN_CAMPAIGN')
        .map((r) => [r.row, r.column, r.code, r.severity]);
      expect(problemsOf(p)).toEqual(imported);
      expect(p.sample.filter((r) => r.lead === null).map((r) => r.row)).toEqual([5, 6, 8]);
      expect(await importsOf('us')).toBe(before);
    });

    it('an Excel "Unicode text" export: UTF-16 with a BOM, tabs, CRLF, a blank row, a duplicate, bad and missing numbers', async () => {
      const p = await preview('asia', 'excel-unicode-text.txt', { defaultCountry: 'ID' });
      expect(p).toMatchObject({ encoding: 'utf-16le', delimiter: '\t', header: ['Nama', 'No HP', 'Email'] });
      expect(p.mapping).toEqual({ phones: ['No HP'], name: ['Nama'] });
      expect(p.sample.map((r) => [r.row, r.lead?.phone ?? null, r.lead?.timeZones ?? null])).toEqual([
        [2, '+6281234567890', ['Asia/Jakarta']],
        [4, '+6281312345678', ['Asia/Jakarta']],
        [5, null, null],
        [6, null, null],
        [7, null, null],
        [8, '+622123456789', ['Asia/Jakarta']],
      ]);
      expect(p.sample[1]!.lead).toMatchObject({
        name: 'Siti "Ayu" Rahayu',
        fields: { Email: 'siti@example.id' },
      });
      expect(problemsOf(p)).toEqual([
        [5, '', 'DUPLICATE_IN_FILE', 'error'],
        [6, 'No HP', 'PHONE_INVALID', 'error'],
        [7, 'No HP', 'PHONE_MISSING', 'error'],
      ]);
      expect(p.sample[2]!.problems[0]!.detail).toContain('(row 2)');
    });

    it('takes a multipart upload with the mapping and options as form fields', async () => {
      const res = await api()
        .post(previewUrl('fr'))
        .set('Authorization', owner)
        .field('defaultCountry', 'FR')
        .field('mapping', JSON.stringify({ phones: ['Téléphone'], name: ['Nom'] }))
        .attach('file', fixture('latin1.csv'), 'clients.csv')
        .expect(200);
      const p = importPreviewSchema.parse(res.body);
      expect(p.encoding).toBe('windows-1252');
      expect(p.mapping).toEqual({ phones: ['Téléphone'], name: ['Nom'] });
      expect(p.sample.length).toBeGreaterThan(0);
      expect(p.sample.every((r) => r.lead === null || r.lead.phone.startsWith('+33'))).toBe(true);
    });

    it('reads only the head of a large file: 20 rows, answered before the upload ends, the connection closed', async () => {
      const lines = ['Name,Phone'];
      for (let i = 0; i < 200_000; i++)
        lines.push(`Lead ${i},(212) 555-${String(i % 10_000).padStart(4, '0')}`);
      const big = Buffer.from(lines.join('\n'));
      expect(big.length).toBeGreaterThan(4 * 1024 * 1024);
      const res = await api()
        .post(previewUrl('us'))
        .query({ defaultCountry: 'US' })
        .set('Authorization', owner)
        .set('Content-Type', 'text/csv')
        .send(big)
        .expect(200);
      expect(res.headers.connection).toBe('close');
      const p = importPreviewSchema.parse(res.body);
      expect(p.sample.map((r) => r.row)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
      expect(p.sample[19]!.lead).toMatchObject({ phone: '+12125550019', name: 'Lead 19' });
    });

    it('refuses a file without a phone column, bad options, and other tenants and roles', async () => {
      const none = await api()
        .post(previewUrl('us'))
        .set('Authorization', owner)
        .set('Content-Type', 'text/csv')
        .send('Name,City\nAmy,Boston\n')
        .expect(400);
      expect((none.body as { error: { code: string } }).error.code).toBe('IMPORT_INVALID');
      const missing = await api()
        .post(previewUrl('us'))
        .query({ mapping: JSON.stringify({ phones: ['Mobile'] }) })
        .set('Authorization', owner)
        .set('Content-Type', 'text/csv')
        .send(fixture('us-national.csv'))
        .expect(400);
      expect((missing.body as { error: { message: string } }).error.message).toContain('Mobile');
      await api()
        .post(previewUrl('us'))
        .query({ defaultCountry: 'XX' })
        .set('Authorization', owner)
        .set('Content-Type', 'text/csv')
        .send(fixture('us-national.csv'))
        .expect(400);
      await api()
        .post(previewUrl('us'))
        .set('Authorization', owner)
        .set('Content-Type', 'application/json')
        .send('{}')
        .expect(415);
      await api()
        .post(previewUrl('nope'))
        .set('Authorization', owner)
        .set('Content-Type', 'text/csv')
        .send(fixture('us-national.csv'))
        .expect(404);
      await api()
        .post(previewUrl('us'))
        .set('Authorization', otherOwner)
        .set('Content-Type', 'text/csv')
        .send(fixture('us-national.csv'))
        .expect(403);
      await api()
        .post('/api/v1/tenants/other/campaigns/us/imports/preview')
        .set('Authorization', otherOwner)
        .set('Content-Type', 'text/csv')
        .send(fixture('us-national.csv'))
        .expect(404);
    });
  });
  it('a marketing campaign refuses rows without live voice consent (CONSENT_MISSING), in the import and its preview', async () => {
    await api()
      .put('/api/v1/tenants/acme/campaigns/promo')
      .set('Authorization', owner)
      .send({ name: 'promo', status: 'active', window: ALWAYS_OPEN })
      .expect(200);
    await api()
      .put('/api/v1/tenants/acme/campaigns/promo/privacy')
      .set('Authorization', owner)
      .send({ kind: 'marketing' })
      .expect(200);
    await api()
      .post('/api/v1/tenants/acme/privacy/consents')
      .set('Authorization', owner)
      .send({ phone: '+442079460031', channel: 'voice', source: 'web form' })
      .expect(201);
    const file = Buffer.from('Name,Phone\nAsked,020 7946 0031\nNot asked,020 7946 0032\n');
    const preview = await api()
      .post('/api/v1/tenants/acme/campaigns/promo/imports/preview')
      .query({ defaultCountry: 'GB' })
      .set('Authorization', owner)
      .set('Content-Type', 'text/csv')
      .send(file)
      .expect(200);
    const sample = importPreviewSchema.parse(preview.body).sample;
    expect(sample.map((r) => [r.row, r.lead?.phone ?? null, r.problems.map((p) => p.code)])).toEqual([
      [2, '+442079460031', []],
      [3, null, ['CONSENT_MISSING']],
    ]);
    const res = await api()
      .post('/api/v1/tenants/acme/campaigns/promo/imports')
      .query({ defaultCountry: 'GB' })
      .set('Authorization', owner)
      .set('Content-Type', 'text/csv')
      .send(file)
      .expect(201);
    const job = (res.body as { import: Record<string, unknown> }).import;
    expect(job).toMatchObject({ status: 'done', rowsRead: 2, queued: 1, rejected: 1 });
    expect(brief(await rejectsOf(job.id as string))).toEqual([[3, '', 'CONSENT_MISSING', 'error']]);
    expect((await leadsOf('promo')).map((l) => l.phone)).toEqual(['+442079460031']);
  });
});
