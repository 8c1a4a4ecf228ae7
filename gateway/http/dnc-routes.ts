// The tenant's do-not-call list over HTTP: add, check, remove, and import a CSV of numbers. Every
// number is normalised the way CSV lead imports normalise theirs (gateway/leads/phone-numbers.ts,
// national formats read in the tenant plan's default country), so `+4407700900123`, `07700 900123`
// and `+447700900123` are one listing. Adding commits to Postgres before the answer and takes the
// number out of every queue (gateway.suppress); removing takes it out of every campaign's
// suppression set first (the engine's unsuppressNumbers), then off the list. Leads the listing
// removed stay removed: removal only lets leads queued from then on be called.
import { Router } from 'express';
import type { Request } from 'express';
import { Readable } from 'node:stream';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { isEngineError } from '../../engine/errors.js';
import { tenantIdSchema } from '../../engine/ids.js';
import type { TenantId } from '../../engine/ids.js';
import type { Database } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { normaliseDncNumber as normalisePhone } from './dnc-numbers.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';

/** Numbers per do-not-call request (the db accepts at most 100,000). */
export const MAX_DNC_PER_REQUEST = 100_000;
/** Numbers listed per step of a CSV import (one Postgres statement and one pass over the campaigns). */
const IMPORT_BATCH = 5_000;
/** Rejected rows named in an import's answer (all are counted). */
export const MAX_DNC_IMPORT_REJECTS = 1_000;

/** A number as a person typed it: E.164, or a national format of the tenant's default country. */
export const dncNumberSchema = z.string().trim().min(1).max(40);

export const dncBodySchema = z.strictObject({
  phones: z.array(dncNumberSchema).min(1).max(MAX_DNC_PER_REQUEST),
});
export const dncParams = z.object({ tenantId: tenantIdSchema, phone: dncNumberSchema });
const tenantParams = z.object({ tenantId: tenantIdSchema });

export const dncImportQuerySchema = z.strictObject({
  /** The header of the phone column; default: the only column, or the first whose header says phone/number/mobile/tel. */
  column: z.string().min(1).max(200).optional(),
});

export const dncCheckResponseSchema = z.object({ phone: z.string(), listed: z.boolean() });
export const dncRemoveResponseSchema = z.object({ removed: z.literal(true), phone: z.string() });
export const dncAddResponseSchema = z.object({
  /** Queued leads the listing took out of their campaigns. */
  removed: z.number().int(),
});
export const dncImportResponseSchema = z.object({
  rows: z.number().int(),
  listed: z.number().int().describe('numbers newly listed'),
  alreadyListed: z.number().int(),
  duplicates: z.number().int().describe('rows repeating a number of an earlier row'),
  rejected: z.number().int(),
  leadsRemoved: z.number().int(),
  rejects: z.array(
    z.object({ row: z.number().int(), code: z.enum(['PHONE_MISSING', 'PHONE_INVALID']), value: z.string() }),
  ),
});

const PHONE_HEADER = /phone|number|mobile|cell|tel|msisdn|handy|ponsel|nombor/i;

async function defaultCountryOf(db: Database, tenantId: string): Promise<CountryCode | undefined> {
  return (await db.tenants.get(tenantId))?.plan.defaultCountry as CountryCode | undefined;
}

/** Normalise each number or fail naming every one at fault (PAYLOAD_INVALID, path `<field>.<i>`). */
function normaliseAll(raw: readonly string[], country: CountryCode | undefined, field: string): string[] {
  const issues: z.core.$ZodIssue[] = [];
  const out = raw.map((value, i) => {
    const n = normalisePhone(value, country);
    if (n.ok) return n.e164;
    issues.push({
      code: 'custom',
      path: field === '' ? [] : [field, i],
      message: `not a phone number${country ? ` (national numbers are read as ${country})` : ''}`,
      input: undefined,
    });
    return '';
  });
  if (issues.length > 0) throw new z.ZodError(issues);
  return out;
}

export function dncRoutes(gateway: Gateway, audit: Audit): Router {
  const { db, store } = gateway.deps;
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');

  const oneNumber = async (req: Request): Promise<{ tenantId: TenantId; phone: string }> => {
    const { tenantId, phone } = dncParams.parse(req.params);
    const [e164] = normaliseAll([phone], await defaultCountryOf(db, tenantId), 'phone');
    return { tenantId, phone: e164! };
  };

  router.post('/tenants/:tenantId/dnc', admin, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const body = dncBodySchema.parse(req.body);
    const phones = normaliseAll(body.phones, await defaultCountryOf(db, tenantId), 'phones');
    const removed = await gateway.suppress(tenantId, phones, 'api');
    await audit(req, res, 'dnc.add', '', { numbers: phones.length });
    res.json({ removed });
  });

  router.get('/tenants/:tenantId/dnc/:phone', admin, async (req, res) => {
    const { tenantId, phone } = await oneNumber(req);
    res.json({ phone, listed: await db.dnc.has(tenantId, phone) });
  });

  router.delete('/tenants/:tenantId/dnc/:phone', admin, async (req, res) => {
    const { tenantId, phone } = await oneNumber(req);
    if (!(await db.dnc.has(tenantId, phone))) throw new GatewayError('DNC_UNKNOWN');
    // The engine first: while Postgres still lists the number, nothing can queue it (intake and
    // rebuilds scrub against Postgres), so a failure half way leaves it listed, never half-called.
    let busy = false;
    for (const campaignId of await db.campaigns.listIds(tenantId)) {
      try {
        const result = await store.unsuppressNumbers({ tenantId, campaignId }, [phone]);
        if (result.held.length > 0) busy = true;
      } catch (err) {
        // A paused campaign without a queue, or an archived one: nothing is suppressed there.
        if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
      }
    }
    if (busy) {
      throw new GatewayError(
        'LEAD_BUSY',
        'A lead this listing removed is still on a call; the number stays listed. Retry once the call is completed',
      );
    }
    if (!(await db.dnc.remove(tenantId, phone))) throw new GatewayError('DNC_UNKNOWN');
    await audit(req, res, 'dnc.remove', '', { numbers: 1 });
    res.json({ removed: true, phone });
  });

  router.post('/tenants/:tenantId/dnc/imports', admin, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const query = dncImportQuerySchema.parse(req.query);
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (!DNC_CSV_TYPES.includes(type)) {
      req.resume();
      res.set('Connection', 'close');
      throw new GatewayError(
        'UNSUPPORTED_MEDIA_TYPE',
        `Send the file as one of: ${DNC_CSV_TYPES.join(', ')}`,
      );
    }
    const country = await defaultCountryOf(db, tenantId);
    // The CSV readers (csv-parse, iconv-lite, chardet) load with the first file, not at start.
    const [{ parse }, { decodeText }] = await Promise.all([
      import('csv-parse'),
      import('../leads/csv-text.js'),
    ]);
    const decoded = await decodeText(req);
    const parser = parse({
      delimiter: decoded.delimiter,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      info: true,
    });
    const input = Readable.from(decoded.text, { objectMode: false });
    input.on('error', (err) => parser.destroy(err));
    input.pipe(parser);

    const counts = { rows: 0, listed: 0, alreadyListed: 0, duplicates: 0, rejected: 0, leadsRemoved: 0 };
    const rejects: z.input<typeof dncImportResponseSchema>['rejects'] = [];
    const seen = new Set<string>();
    let batch: string[] = [];
    let column: number | undefined;
    const flush = async () => {
      if (batch.length === 0) return;
      const already = await db.dnc.filterListed(tenantId, batch);
      counts.alreadyListed += already.length;
      counts.listed += batch.length - already.length;
      counts.leadsRemoved += await gateway.suppress(tenantId, batch, 'api');
      batch = [];
    };
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record } = item;
      const row = item.info.lines;
      if (column === undefined) {
        column = pickColumn(record, query.column, country);
        // A first row that is a number is data, not a header.
        const first = record[column] ?? '';
        if (!normalisePhone(first, country).ok) continue;
      }
      counts.rows++;
      const raw = (record[column] ?? '').trim();
      const n = normalisePhone(raw, country);
      if (!n.ok) {
        counts.rejected++;
        if (rejects.length < MAX_DNC_IMPORT_REJECTS)
          rejects.push({ row, code: n.code, value: raw.slice(0, 100) });
        continue;
      }
      if (seen.has(n.e164)) {
        counts.duplicates++;
        continue;
      }
      seen.add(n.e164);
      batch.push(n.e164);
      if (batch.length >= IMPORT_BATCH) await flush();
    }
    await flush();
    await audit(req, res, 'dnc.import', '', {
      rows: counts.rows,
      listed: counts.listed,
      rejected: counts.rejected,
    });
    res.status(201).json({ ...counts, rejects });
  });

  return router;
}

export const DNC_CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream'];

/** The phone column: the one named, the only one, or the first whose header looks like a number's. */
function pickColumn(
  first: readonly string[],
  named: string | undefined,
  country: CountryCode | undefined,
): number {
  if (named !== undefined) {
    const i = first.findIndex((h) => h.trim().toLowerCase() === named.trim().toLowerCase());
    if (i < 0) throw new GatewayError('IMPORT_INVALID', `The header has no column "${named}"`);
    return i;
  }
  if (first.length === 1) return 0;
  const byHeader = first.findIndex((h) => PHONE_HEADER.test(h));
  if (byHeader >= 0) return byHeader;
  const byValue = first.findIndex((v) => normalisePhone(v, country).ok);
  if (byValue >= 0) return byValue;
  throw new GatewayError('IMPORT_INVALID', 'No column looks like a phone number: name it with ?column=');
}
