// Lead imports: the job record of each uploaded file (counts that move while it streams in, so
// progress can be polled) and its rejects (row number, column, stable code), kept for the rejects
// report. Every query takes the tenant.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { campaignIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { leadColumns, storedLeadOf } from './leads.js';
import type { LeadColumns, LeadRow, NewLead, StoredLead } from './leads.js';
import { fromTimestamp, parseInput, PHONE_E164, storableText, tenantOf } from './validate.js';

export const IMPORT_STATUSES = ['running', 'done', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

export interface ImportCounts {
  /** Data rows read from the file (the header is not one). */
  readonly rowsRead: number;
  readonly queued: number;
  /** Rows whose number was already queued in the campaign (a file imported again, or an earlier file). */
  readonly alreadyQueued: number;
  /** Rows repeating a number earlier in the same file. */
  readonly duplicates: number;
  /** Rows whose number is on the tenant's do-not-call list. */
  readonly dnc: number;
  /** Rows not imported for a reason given in the rejects. */
  readonly rejected: number;
  /** Rows imported with a cell dropped (e.g. an invalid second number), also in the rejects. */
  readonly warnings: number;
}

export interface ImportJob extends ImportCounts {
  readonly id: string;
  readonly campaignId: string;
  readonly fileName: string;
  readonly fileSha256: string | null;
  readonly status: ImportStatus;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: number;
  readonly finishedAt: number | null;
}

export interface ImportReject {
  /** The row's number as a spreadsheet shows it (the header is row 1). */
  readonly row: number;
  readonly column: string;
  readonly code: string;
  readonly severity: 'error' | 'warning';
  readonly detail: string;
  /** The cell at fault, as read. */
  readonly value: string;
}

export interface ImportRepository {
  create(input: {
    tenantId: string;
    campaignId: string;
    fileName: string;
    settings: Record<string, unknown>;
    createdBy: string;
  }): Promise<ImportJob>;
  /** Add to the counts and store these rejects, in one transaction. */
  progress(
    tenantId: string,
    importId: string,
    delta: ImportCounts,
    rejects: readonly ImportReject[],
  ): Promise<void>;
  finish(
    tenantId: string,
    importId: string,
    end: { status: 'done' | 'failed'; fileSha256?: string; error?: string },
  ): Promise<ImportJob>;
  get(tenantId: string, importId: string): Promise<ImportJob | undefined>;
  /** Newest first, keyset pages by id. */
  list(tenantId: string, campaignId: string, page: { before?: string; limit: number }): Promise<ImportJob[]>;
  /** An earlier finished import of the same file into the same campaign. */
  findByHash(
    tenantId: string,
    campaignId: string,
    sha256: string,
    exceptId: string,
  ): Promise<ImportJob | undefined>;
  /**
   * New leads of a campaign, written with one COPY (the bulk path of the lead intake): checked as
   * `leads.insertBatch` checks them, the same rows, ids returned in input order (so id order is
   * import order), all or none.
   */
  copyLeads(
    tenantId: string,
    campaignId: string,
    leads: readonly NewLead[] | PreparedLeads,
  ): Promise<string[]>;
  /**
   * What a batch of an import must know before anything is written, in one round trip: which of
   * its numbers (the leads' and their further ones) are on the tenant's do-not-call list, whether
   * the tenant erased anybody (only then are the numbers hashed against the erasure list), and
   * the lead already queued in the campaign under each lead's number (the first by id).
   */
  scrubBatch(
    tenantId: string,
    campaignId: string,
    phones: readonly string[],
    further: readonly string[],
  ): Promise<BatchScrub>;
  /** Rejects in row order, keyset pages after a row number. */
  rejects(
    tenantId: string,
    importId: string,
    page: { afterRow?: number; limit: number },
  ): Promise<ImportReject[]>;
}

export interface BatchScrub {
  /** The numbers asked about that are on the do-not-call list. */
  readonly listed: ReadonlySet<string>;
  /** The tenant has erased somebody: the batch must be hashed against the erasure list. */
  readonly anyErased: boolean;
  /** The queued lead of the campaign under each lead number that has one. */
  readonly queued: readonly StoredLead[];
}

/**
 * A batch's numbers as one text parameter (`string_to_array(?, ',')` in SQL): an E.164 number
 * holds no comma, and one string is what pg sends for an array anyway, without building it
 * element by element (a batch is thousands of numbers, once per batch of every import).
 */
function phoneList(phones: readonly string[], what: string): string {
  if (phones.length > 100_000) throw new DbError('INPUT_INVALID', `${what}: at most 100000`);
  for (const p of phones)
    if (typeof p !== 'string' || !PHONE_E164.test(p))
      throw new DbError('INPUT_INVALID', `${what}: numbers must be E.164`);
  return phones.join(',');
}

/** The columns of a queued lead the scrub reads back (LeadRow), after its `hit` column. */
const SCRUB_LEAD_COLUMNS =
  'tenant_id, id, campaign_id, phone, name, time_zone, priority, status, attempts, next_due_at, pinned_agent_id, fields, created_at, updated_at';

/**
 * New leads checked (as `leads.insertBatch` checks them) and turned into their columns ahead of
 * `copyLeads`: a pipelined import does this CPU work in an earlier step than the COPY's.
 */
export class PreparedLeads {
  readonly rows: readonly LeadColumns[];
  /** Throws INPUT_INVALID naming the first bad lead. */
  constructor(leads: readonly NewLead[]) {
    this.rows = leads.map(leadColumns);
  }
  get length(): number {
    return this.rows.length;
  }
}

interface ImportRow {
  tenant_id: string;
  id: string;
  campaign_id: string;
  file_name: string;
  file_sha256: string | null;
  status: ImportStatus;
  settings: Record<string, unknown>;
  rows_read: number;
  queued: number;
  already_queued: number;
  duplicates: number;
  dnc: number;
  rejected: number;
  warnings: number;
  error: string | null;
  created_by: string;
  created_at: Date;
  finished_at: Date | null;
}

const toJob = (r: ImportRow): ImportJob => ({
  id: String(r.id),
  campaignId: r.campaign_id,
  fileName: r.file_name,
  fileSha256: r.file_sha256,
  status: r.status,
  settings: r.settings,
  rowsRead: r.rows_read,
  queued: r.queued,
  alreadyQueued: r.already_queued,
  duplicates: r.duplicates,
  dnc: r.dnc,
  rejected: r.rejected,
  warnings: r.warnings,
  error: r.error,
  createdBy: r.created_by,
  createdAt: fromTimestamp(r.created_at),
  finishedAt: r.finished_at === null ? null : fromTimestamp(r.finished_at),
});

const importIdSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be an import id');
const REJECT_CHUNK = 1000;
/** A cell kept in a reject is cut to this many characters (the report names it, not archives it). */
export const MAX_REJECT_VALUE = 200;

/** A COPY text-format field: backslash, tab, newline and carriage return escaped. */
const copyText = (s: string): string =>
  /[\\\t\n\r]/.test(s)
    ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
    : s;

const LEAD_COLUMNS =
  'tenant_id, id, campaign_id, phone, name, time_zone, priority, attempts, next_due_at, pinned_agent_id, fields';
const copyCell = (v: string | null): string => (v === null ? '\\N' : copyText(v));

/** The rows as COPY text lines, in chunks of about 64 KB. */
function* copyText64k(
  tenant: string,
  campaign: string,
  ids: readonly string[],
  rows: readonly LeadColumns[],
) {
  const head = `${copyText(tenant)}\t`;
  const mid = `\t${copyText(campaign)}\t`;
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    chunk += `${head}${ids[i]!}${mid}${r.phone}\t${copyText(r.name)}\t${copyCell(r.time_zone)}\t${r.priority}\t${r.attempts}\t${copyCell(r.next_due_at)}\t${copyCell(r.pinned_agent_id)}\t${copyText(r.fields)}\n`;
    if (chunk.length > 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}

/** The same rows for a server without COPY FROM STDIN over the wire (PGlite): arrays, unnested. */
async function insertUnnested(
  conn: pg.Client,
  tenant: string,
  campaign: string,
  ids: readonly string[],
  rows: readonly LeadColumns[],
): Promise<void> {
  const col = <K extends keyof LeadColumns>(k: K) => rows.map((r) => r[k]);
  await conn.query(
    `INSERT INTO leads (${LEAD_COLUMNS}) OVERRIDING SYSTEM VALUE
     SELECT $1, u.id, $2, u.phone, u.name, u.time_zone, u.priority, u.attempts, u.next_due_at, u.pinned, u.fields
     FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::smallint[], $8::int[],
                 $9::timestamptz[], $10::text[], $11::jsonb[])
       AS u(id, phone, name, time_zone, priority, attempts, next_due_at, pinned, fields)`,
    [
      tenant,
      campaign,
      ids,
      col('phone'),
      col('name'),
      col('time_zone'),
      col('priority'),
      col('attempts'),
      col('next_due_at'),
      col('pinned_agent_id'),
      col('fields'),
    ],
  );
}

export function createImportRepository(knex: Knex): ImportRepository {
  /** Whether the server takes COPY FROM STDIN (PGlite, the zero-setup Postgres, does not). */
  let copies: Promise<boolean> | undefined;
  const one = async (tenant: string, id: string) =>
    knex<ImportRow>('lead_imports').where({ tenant_id: tenant, id }).first();

  return {
    async create(input) {
      const tenant = tenantOf(input.tenantId);
      const campaign = parseInput(campaignIdSchema, input.campaignId, 'campaign id');
      const fileName = parseInput(storableText(255), input.fileName, 'file name');
      try {
        const [row] = await knex('lead_imports')
          .insert({
            tenant_id: tenant,
            campaign_id: campaign,
            file_name: fileName,
            settings: JSON.stringify(input.settings),
            created_by: input.createdBy,
          })
          .returning<ImportRow[]>('*');
        return toJob(row!);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('CAMPAIGN_UNKNOWN');
        throw err;
      }
    },

    async progress(tenantId, importId, d, rejects) {
      const tenant = tenantOf(tenantId);
      const id = parseInput(importIdSchema, importId, 'import id');
      await knex.transaction(async (trx) => {
        await trx('lead_imports')
          .where({ tenant_id: tenant, id })
          .update({
            rows_read: trx.raw('rows_read + ?', [d.rowsRead]),
            queued: trx.raw('queued + ?', [d.queued]),
            already_queued: trx.raw('already_queued + ?', [d.alreadyQueued]),
            duplicates: trx.raw('duplicates + ?', [d.duplicates]),
            dnc: trx.raw('dnc + ?', [d.dnc]),
            rejected: trx.raw('rejected + ?', [d.rejected]),
            warnings: trx.raw('warnings + ?', [d.warnings]),
          });
        const seq = new Map<number, number>();
        const rows = rejects.map((r) => {
          const n = seq.get(r.row) ?? 0;
          seq.set(r.row, n + 1);
          return {
            tenant_id: tenant,
            import_id: id,
            row_number: r.row,
            seq: n,
            column_name: clean(r.column),
            code: r.code,
            severity: r.severity,
            detail: clean(r.detail),
            value: clean(r.value).slice(0, MAX_REJECT_VALUE),
          };
        });
        for (let i = 0; i < rows.length; i += REJECT_CHUNK) {
          await trx('lead_import_rejects').insert(rows.slice(i, i + REJECT_CHUNK));
        }
      });
    },

    async finish(tenantId, importId, end) {
      const tenant = tenantOf(tenantId);
      const id = parseInput(importIdSchema, importId, 'import id');
      const [row] = await knex('lead_imports')
        .where({ tenant_id: tenant, id })
        .update({
          status: end.status,
          file_sha256: end.fileSha256 ?? null,
          error: end.error ?? null,
          finished_at: knex.fn.now(),
        })
        .returning<ImportRow[]>('*');
      if (!row) throw new DbError('IMPORT_UNKNOWN');
      return toJob(row);
    },

    async get(tenantId, importId) {
      const tenant = tenantOf(tenantId);
      if (!importIdSchema.safeParse(importId).success) return undefined;
      const row = await one(tenant, importId);
      return row ? toJob(row) : undefined;
    },

    async list(tenantId, campaignId, page) {
      const tenant = tenantOf(tenantId);
      const q = knex<ImportRow>('lead_imports')
        .where({ tenant_id: tenant, campaign_id: campaignId })
        .orderBy('id', 'desc')
        .limit(page.limit);
      if (page.before !== undefined) q.andWhere('id', '<', parseInput(importIdSchema, page.before, 'cursor'));
      return (await q).map(toJob);
    },

    async findByHash(tenantId, campaignId, sha256, exceptId) {
      const row = await knex<ImportRow>('lead_imports')
        .where({
          tenant_id: tenantOf(tenantId),
          campaign_id: campaignId,
          file_sha256: sha256,
          status: 'done',
        })
        .andWhereNot('id', exceptId)
        .orderBy('id')
        .first();
      return row ? toJob(row) : undefined;
    },

    async scrubBatch(tenantId, campaignId, phones, further) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const leadsList = phoneList(phones, 'phones');
      const furtherList = phoneList(further, 'further phones');
      if (phones.length === 0 && further.length === 0)
        return { listed: new Set(), anyErased: false, queued: [] };
      // One statement, three answers told apart by `hit`: each part is an index probe per number
      // (leads_phone_idx, the dnc primary key), so its cost follows the batch, and the batch pays
      // one round trip (one pooled connection) instead of one per question.
      const nulls = SCRUB_LEAD_COLUMNS.split(',')
        .map((c) => (c.trim() === 'phone' ? 'phone' : 'NULL'))
        .join(', ');
      const { rows } = await knex.raw<{ rows: (LeadRow & { hit: 'queued' | 'dnc' | 'erased' })[] }>(
        `SELECT 'queued' AS hit, q.* FROM (
           SELECT DISTINCT ON (phone) ${SCRUB_LEAD_COLUMNS} FROM leads
           WHERE tenant_id = ? AND campaign_id = ? AND status = 'queued'
             AND phone = ANY(string_to_array(?, ','))
           ORDER BY phone, id
         ) q
         UNION ALL
         SELECT 'dnc', ${nulls} FROM dnc
         WHERE tenant_id = ? AND phone = ANY(string_to_array(?, ','))
         UNION ALL
         SELECT 'erased', ${nulls.replace('phone', 'NULL')}
         WHERE EXISTS (SELECT 1 FROM suppressions WHERE tenant_id = ?)`,
        [
          tenant,
          campaign,
          leadsList,
          tenant,
          furtherList === '' ? leadsList : leadsList === '' ? furtherList : `${leadsList},${furtherList}`,
          tenant,
        ],
      );
      const listed = new Set<string>();
      const queued: StoredLead[] = [];
      let anyErased = false;
      for (const r of rows) {
        if (r.hit === 'queued') queued.push(storedLeadOf(r));
        else if (r.hit === 'dnc') listed.add(r.phone);
        else anyErased = true;
      }
      return { listed, anyErased, queued };
    },

    async copyLeads(tenantId, campaignId, leads) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const { rows } = leads instanceof PreparedLeads ? leads : new PreparedLeads(leads);
      if (rows.length === 0) return [];
      copies ??= knex
        .raw<{ rows: { version: string }[] }>('SELECT version()')
        .then((r) => !/PGlite/.test(r.rows[0]?.version ?? ''));
      const copy = await copies;
      // knex's pool hands out its pg clients (search_path set) for what knex cannot say: COPY.
      const pool = knex.client as {
        acquireConnection(): Promise<pg.Client>;
        releaseConnection(conn: pg.Client): Promise<unknown>;
      };
      const conn = await pool.acquireConnection();
      try {
        await conn.query('BEGIN');
        // The ids first, ascending, from the identity's own sequence: COPY writes an identity
        // column's given values (as INSERT ... OVERRIDING SYSTEM VALUE does).
        const { rows: taken } = await conn.query<{ id: string }>(
          `SELECT id::text AS id FROM (
             SELECT nextval(pg_get_serial_sequence('leads', 'id')) AS id FROM generate_series(1, $1::int)
           ) s ORDER BY s.id`,
          [rows.length],
        );
        const ids = taken.map((r) => r.id);
        if (copy) {
          const stream = conn.query(copyFrom(`COPY leads (${LEAD_COLUMNS}) FROM STDIN`));
          await pipeline(Readable.from(copyText64k(tenant, campaign, ids, rows)), stream);
        } else {
          for (let i = 0; i < rows.length; i += 1000)
            await insertUnnested(conn, tenant, campaign, ids.slice(i, i + 1000), rows.slice(i, i + 1000));
        }
        await conn.query('COMMIT');
        return ids;
      } catch (err) {
        await conn.query('ROLLBACK').catch(() => undefined);
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('CAMPAIGN_UNKNOWN');
        throw err;
      } finally {
        await pool.releaseConnection(conn);
      }
    },

    async rejects(tenantId, importId, page) {
      const tenant = tenantOf(tenantId);
      const id = parseInput(importIdSchema, importId, 'import id');
      const rows = await knex('lead_import_rejects')
        .where({ tenant_id: tenant, import_id: id })
        .andWhere('row_number', '>', page.afterRow ?? 0)
        .orderBy(['row_number', 'seq'])
        .limit(page.limit)
        .select<
          {
            row_number: number;
            column_name: string;
            code: string;
            severity: 'error' | 'warning';
            detail: string;
            value: string;
          }[]
        >('row_number', 'column_name', 'code', 'severity', 'detail', 'value');
      return rows.map((r) => ({
        row: r.row_number,
        column: r.column_name,
        code: r.code,
        severity: r.severity,
        detail: r.detail,
        value: r.value,
      }));
    },
  };
}

// NUL and lone surrogates cannot be stored in text: a messy file's cell is kept without them.
// eslint-disable-next-line no-control-regex
const clean = (s: string): string => s.replace(/\u0000|[\ud800-\udfff]/g, '\ufffd');
