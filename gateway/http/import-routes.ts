// CSV lead imports over HTTP: upload a file (the raw body as text/csv, or a multipart/form-data
// part named `file`), streamed straight through the import (never buffered), answered with the
// import's record once every row is accounted for; the record and its rejects (JSON pages, or a
// CSV to download) can be read while it runs and after. Tenant-scoped like every admin route.
import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { Router } from 'express';
import busboy from 'busboy';
import { z } from 'zod';
import { isValidZone } from '../../engine/calling-window.js';
import { campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import type { ImportReject } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { columnMappingSchema } from '../leads/column-mapping.js';
import { CsvImportError, REJECT_CODES, SNIFF_BYTES } from '../leads/import-contract.js';
import { isCountryCode } from '../leads/phone-numbers.js';
import type { CountryCode } from 'libphonenumber-js';
import { principalOf, actorOf, requireRole } from './access.js';
import type { Audit } from './audit-trail.js';

export const countryCodeSchema = z
  .string()
  .toUpperCase()
  .refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code such as US, ID or MY');
export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .refine(isValidZone, 'must be an IANA time zone such as Asia/Jakarta');

/** Options of an upload: query parameters, or form fields sent before the file part. */
export const importQuerySchema = z.strictObject({
  /** Country whose national formats the file uses (default: the tenant plan's `defaultCountry`). */
  defaultCountry: countryCodeSchema.optional(),
  /** Zone for rows whose zone is neither in the file nor derivable from the number (default: the plan's). */
  defaultTimeZone: timeZoneSchema.optional(),
  /** The column mapping as JSON (`{"phones":["Mobile","Home"],"name":["First","Last"],...}`); default: guessed from the header. */
  mapping: z
    .string()
    .max(10_000)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return z.NEVER;
      }
    })
    .pipe(columnMappingSchema)
    .optional(),
  /** A name for the record (multipart uploads default to the file's name). */
  fileName: z.string().max(255).optional(),
});

export const importParams = z.object({
  tenantId: tenantIdSchema,
  importId: z.string().regex(/^[1-9]\d{0,18}$/),
});
const campaignParams = z.object({ tenantId: tenantIdSchema, campaignId: campaignIdSchema });
export const importListQuerySchema = z.object({
  before: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export const rejectsQuerySchema = z.object({
  /** Rows after this row number (the `next` of the previous page). */
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(10).max(5000).default(1000),
  format: z.enum(['json', 'csv']).default('json'),
});

export const CSV_TYPES = [
  'text/csv',
  'application/csv',
  'text/plain',
  'application/octet-stream',
  'multipart/form-data',
];

interface Upload {
  /** The file's bytes: the request itself, or the multipart part. */
  readonly source: Readable;
  readonly fileName: string;
  readonly fields: Record<string, string>;
}

/** The file of the request, as a stream: the raw body, or the first multipart file part. */
function uploadOf(req: Request): Promise<Upload> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!CSV_TYPES.includes(type)) {
    return Promise.reject(
      new GatewayError('UNSUPPORTED_MEDIA_TYPE', `Send the file as one of: ${CSV_TYPES.join(', ')}`),
    );
  }
  if (type !== 'multipart/form-data') return Promise.resolve({ source: req, fileName: '', fields: {} });
  return new Promise((resolve, reject) => {
    const fields: Record<string, string> = {};
    let found = false;
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 10_000 } });
    } catch {
      reject(new GatewayError('BAD_REQUEST', 'Malformed multipart/form-data'));
      return;
    }
    bb.on('field', (name, value) => (fields[name] = value));
    bb.on('file', (name, stream, info) => {
      if (found || name !== 'file') {
        stream.resume();
        return;
      }
      found = true;
      resolve({ source: stream, fileName: info.filename ?? '', fields });
    });
    bb.on('error', () => reject(new GatewayError('BAD_REQUEST', 'Malformed multipart/form-data')));
    bb.on('close', () => {
      if (!found) reject(new GatewayError('IMPORT_INVALID', 'No form part named "file"'));
    });
    req.pipe(bb);
  });
}

const rejectCodeSchema = z.enum(Object.keys(REJECT_CODES) as [keyof typeof REJECT_CODES]);

/** The answer of a preview: what the import would make of the file's first rows. */
export const importPreviewSchema = z.object({
  encoding: z.enum(['utf-8', 'utf-16le', 'utf-16be', 'windows-1252']),
  delimiter: z.enum([',', ';', '\t']),
  header: z.array(z.string()),
  /** The mapping given, else the one guessed from the header (what the import would use). */
  mapping: columnMappingSchema,
  sample: z.array(
    z.object({
      /** The row as a spreadsheet numbers it (the header is row 1). */
      row: z.number().int(),
      /** The lead the row would be; null when the row would not be imported. */
      lead: z
        .object({
          phone: z.string(),
          timeZones: z.array(z.string()),
          name: z.string(),
          fields: z.record(z.string(), z.string()),
          /** The row's further numbers, tried in this order after `phone` (absent: it has one). */
          alternates: z.array(z.object({ phone: z.string(), timeZones: z.array(z.string()) })).optional(),
        })
        .nullable(),
      problems: z.array(
        z.object({
          column: z.string(),
          code: rejectCodeSchema,
          severity: z.enum(['error', 'warning']),
          detail: z.string(),
        }),
      ),
    }),
  ),
});
export type ImportPreview = z.infer<typeof importPreviewSchema>;

/** Bytes of an upload a preview reads (the same the import sniffs the file from). */
export const PREVIEW_BYTES = SNIFF_BYTES;
/** Data rows in a preview's sample. */
export const PREVIEW_ROWS = 20;

/** The first `limit` bytes of a stream, leaving it paused after them. */
function headOf(stream: Readable, limit: number): Promise<{ chunks: Buffer[]; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (truncated: boolean) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      resolve({ chunks, truncated });
    };
    const onData = (chunk: Buffer) => {
      const room = limit - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
      size += Math.min(chunk.length, room);
      if (size >= limit) {
        stream.pause();
        done(chunk.length > room || !stream.readableEnded);
      }
    };
    const onEnd = () => done(false);
    const onError = (err: Error) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      reject(err);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/** A cell for a spreadsheet: quoted when needed, and never read as a formula. */
function csvCell(value: string | number): string {
  let s = String(value);
  if (/^[=@]/.test(s) || /^[+-][^\d\s(]/.test(s)) s = `'${s}`;
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * The import itself (csv-parse, iconv-lite, chardet, the zone data) is loaded when an import or a
 * preview first runs, not when the gateway starts: a restart serves /readyz without it.
 */
const loadCsvImport = () => import('../leads/csv-import.js');

export function importRoutes(gateway: Gateway, audit: Audit): Router {
  const { db } = gateway.deps;
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');

  /** A route taking a CSV upload: refused before (or while) the file was read, the rest of the
   * upload is discarded and the connection closed after the answer, so a client still sending
   * reads the error. */
  const uploadRoute =
    (run: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
      try {
        await run(req, res);
      } catch (err) {
        if (!req.readableEnded) {
          res.set('Connection', 'close');
          req.resume();
        }
        throw err;
      }
    };

  /** The campaign, the upload and the options an import or a preview reads it with. */
  async function openUpload(req: Request) {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const query = importQuerySchema.parse(req.query);
    const ref = await gateway.campaigns.active(tenantId, campaignId);
    if (!ref) throw new GatewayError('CAMPAIGN_UNKNOWN', 'No such active campaign in this tenant');
    const upload = await uploadOf(req);
    const options = { ...query, ...importQuerySchema.parse(upload.fields) };
    const [tenant, campaign] = await Promise.all([
      db.tenants.get(tenantId),
      db.campaigns.get(tenantId, campaignId),
    ]);
    const defaultCountry = (options.defaultCountry ?? tenant?.plan.defaultCountry) as CountryCode | undefined;
    const defaultTimeZone =
      options.defaultTimeZone ?? campaign?.defaultTimeZone ?? tenant?.plan.defaultTimeZone;
    // The plan's custom-field limits: a row over them is one reject, not a failed batch.
    const fieldLimits = tenant?.plan.leadFields;
    return { tenantId, campaignId, upload, options, defaultCountry, defaultTimeZone, fieldLimits };
  }

  router.post('/tenants/:tenantId/campaigns/:campaignId/imports', admin, uploadRoute(runImport));

  async function runImport(req: Request, res: Response): Promise<void> {
    const { tenantId, campaignId, upload, options, defaultCountry, defaultTimeZone, fieldLimits } =
      await openUpload(req);
    const job = await db.imports.create({
      tenantId,
      campaignId,
      fileName: (options.fileName ?? upload.fileName).slice(0, 255),
      settings: {
        ...(defaultCountry ? { defaultCountry } : {}),
        ...(defaultTimeZone ? { defaultTimeZone } : {}),
        ...(options.mapping ? { mapping: options.mapping } : {}),
      },
      createdBy: actorOf(principalOf(res)),
    });
    let result;
    try {
      const intake = await gateway.leadIntake(tenantId, campaignId);
      const { importCsv } = await loadCsvImport();
      result = await importCsv(
        upload.source,
        {
          mapping: options.mapping,
          defaultCountry,
          defaultTimeZone,
          fieldLimits,
          heapGrowthPercent: gateway.deps.config.IMPORT_HEAP_GROWTH_PERCENT,
        },
        {
          intake,
          progress: (delta, rejects) => db.imports.progress(tenantId, job.id, delta, rejects),
        },
      );
    } catch (err) {
      const message = err instanceof CsvImportError ? err.message : 'The import stopped on an error';
      await db.imports.finish(tenantId, job.id, { status: 'failed', error: message });
      await audit(req, res, 'leads.import', campaignId, { import: job.id, status: 'failed' });
      if (err instanceof CsvImportError)
        throw new GatewayError('IMPORT_INVALID', err.message, { importId: job.id });
      throw err;
    }
    const done = await db.imports.finish(tenantId, job.id, { status: 'done', fileSha256: result.sha256 });
    const earlier = await db.imports.findByHash(tenantId, campaignId, result.sha256, job.id);
    await audit(req, res, 'leads.import', campaignId, {
      import: job.id,
      rows: done.rowsRead,
      queued: done.queued,
      rejected: done.rejected,
    });
    res.status(201).json({
      import: done,
      encoding: result.encoding,
      delimiter: result.delimiter,
      header: result.header,
      mapping: result.mapping,
      /** The same file was imported before into this campaign (its rows are then already queued). */
      sameFileAs: earlier?.id ?? null,
    });
  }

  router.post('/tenants/:tenantId/campaigns/:campaignId/imports/preview', admin, uploadRoute(runPreview));

  async function runPreview(req: Request, res: Response): Promise<void> {
    const { tenantId, campaignId, upload, options, defaultCountry, defaultTimeZone, fieldLimits } =
      await openUpload(req);
    const intake = await gateway.leadIntake(tenantId, campaignId);
    const head = await headOf(upload.source, PREVIEW_BYTES);
    // Only the head is read: the rest of the upload is discarded, and the connection closed after
    // the answer so a client still sending reads it.
    if (head.truncated || !req.readableEnded) {
      res.set('Connection', 'close');
      upload.source.resume();
      req.resume();
    }
    try {
      const { previewCsv } = await loadCsvImport();
      const preview = await previewCsv(
        Readable.from(head.chunks),
        { mapping: options.mapping, defaultCountry, defaultTimeZone, fieldLimits },
        {
          rows: PREVIEW_ROWS,
          truncated: head.truncated,
          listed: async (phones) =>
            new Set([
              ...(await db.dnc.filterListed(tenantId, phones)),
              ...(await db.privacy.suppressions.filterSuppressed(tenantId, phones)),
            ]),
          unconsented: (phones) => intake.unconsented(phones),
        },
      );
      res.json(preview);
    } catch (err) {
      if (err instanceof CsvImportError) throw new GatewayError('IMPORT_INVALID', err.message);
      throw err;
    }
  }

  router.get('/tenants/:tenantId/campaigns/:campaignId/imports', admin, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const q = importListQuerySchema.parse(req.query);
    const items = await db.imports.list(tenantId, campaignId, {
      limit: q.limit,
      ...(q.before ? { before: q.before } : {}),
    });
    res.json({ items, next: items.length === q.limit ? (items.at(-1)?.id ?? null) : null });
  });

  router.get('/tenants/:tenantId/imports/:importId', admin, async (req, res) => {
    const { tenantId, importId } = importParams.parse(req.params);
    const job = await db.imports.get(tenantId, importId);
    if (!job) throw new GatewayError('NOT_FOUND', 'No such import in this tenant');
    res.json({ import: job });
  });

  router.get('/tenants/:tenantId/imports/:importId/rejects', admin, async (req, res) => {
    const { tenantId, importId } = importParams.parse(req.params);
    const q = rejectsQuerySchema.parse(req.query);
    if (!(await db.imports.get(tenantId, importId)))
      throw new GatewayError('NOT_FOUND', 'No such import in this tenant');
    if (q.format === 'json') {
      const items = await db.imports.rejects(tenantId, importId, {
        limit: q.limit,
        ...(q.after === undefined ? {} : { afterRow: q.after }),
      });
      // A page ends on a whole row: a row's few problems are never split across pages.
      const full = items.length === q.limit;
      const page = full ? items.filter((r) => r.row < items.at(-1)!.row) : items;
      res.json({ items: page, next: full ? (page.at(-1)?.row ?? null) : null });
      return;
    }
    // The whole report as a CSV file, written page by page.
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Content-Disposition', `attachment; filename="import-${importId}-rejects.csv"`);
    res.write('\ufeffrow,column,code,severity,detail,value\r\n');
    let after = 0;
    for (;;) {
      const items: ImportReject[] = await db.imports.rejects(tenantId, importId, {
        afterRow: after,
        limit: 5000,
      });
      if (items.length === 0) break;
      const full = items.length === 5000;
      const rows = full ? items.filter((r) => r.row < items.at(-1)!.row) : items;
      res.write(
        rows
          .map(
            (r) => [r.row, r.column, r.code, r.severity, r.detail, r.value].map(csvCell).join(',') + '\r\n',
          )
          .join(''),
      );
      after = rows.at(-1)!.row;
      if (!full) break;
    }
    res.end();
  });

  return router;
}
