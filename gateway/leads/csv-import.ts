// A CSV file of leads into a campaign, streamed: decoded (encoding and separator sniffed), parsed
// record by record by csv-parse, each row checked and normalised (E.164 by libphonenumber-js with
// the default country, time zone given or derived from the number, duplicates within the file),
// then added in batches through the same intake as the JSON API (DNC scrub, dedupe against the
// campaign, Postgres then queue). Every row ends in exactly one count — queued, already queued,
// duplicate, DNC, rejected — and every row not queued, or queued with a cell dropped, is in the
// rejects with its row number, column and a stable code. Memory stays bounded: one batch of rows,
// and one number per distinct phone seen (to name the row a duplicate repeats).
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import type { CountryCode } from 'libphonenumber-js';
import { isValidZone } from '../../engine/calling-window.js';
import { MAX_PRIORITY } from '../../engine/lead.js';
import { MAX_LEAD_PHONES } from '../../db/index.js';
import type { ImportCounts, ImportReject, NewLead } from '../../db/index.js';
import type { AddedLeads, LeadIntake } from './intake.js';
import { CsvImportError, REJECT_CODES } from './import-contract.js';
import type { RejectCode } from './import-contract.js';
import { guessMapping, resolveMapping } from './column-mapping.js';
import type { ColumnMapping, ResolvedMapping } from './column-mapping.js';
import { decodeText } from './csv-text.js';
import type { Delimiter, TextEncoding } from './csv-text.js';
import { normalisePhone } from './phone-numbers.js';
import { phoneMemo } from './phone-memo.js';
import type { PhoneMemo } from './phone-memo.js';
import { PhoneRows } from './phone-set.js';
import { MAX_CANDIDATE_ZONES, phoneZones } from './phone-zones.js';
import type { PhoneZones } from './phone-zones.js';
import { DEFAULT_IMPORT_HEAP_GROWTH_PERCENT, holdHeapGrowth } from '../heap.js';

export { CsvImportError, REJECT_CODES } from './import-contract.js';
export type { RejectCode } from './import-contract.js';

export interface CsvImportOptions {
  /** Explicit mapping; else guessed from the header. */
  readonly mapping?: ColumnMapping | undefined;
  readonly defaultCountry?: CountryCode | undefined;
  /** For rows whose zone is neither given nor derivable from the number. */
  readonly defaultTimeZone?: string | undefined;
  /** Rows per batch handed to the intake. */
  readonly batchSize?: number;
  /**
   * The tenant plan's custom-field limits (`leadFields`), which the leads table enforces on every
   * write: a row over them is rejected here, with its reason, instead of failing its whole batch.
   */
  readonly fieldLimits?: { readonly maxCount: number; readonly maxValueLength: number } | undefined;
  /**
   * While the import runs, the process's heap grows at most this far (percent) past what the last
   * full collection left alive (gateway/heap.ts; the gateway's IMPORT_HEAP_GROWTH_PERCENT); 0: V8's own.
   */
  readonly heapGrowthPercent?: number;
}

export interface CsvImportSink {
  /** The campaign's intake (DNC scrub, consent, dedupe against the campaign, Postgres, queue). */
  readonly intake: LeadIntake;
  /** Record progress: counts since the last call and the rejects found in them. */
  progress(delta: ImportCounts, rejects: readonly ImportReject[]): Promise<void>;
}

export interface CsvImportResult {
  readonly encoding: TextEncoding;
  readonly delimiter: Delimiter;
  readonly header: readonly string[];
  readonly mapping: ColumnMapping;
  readonly sha256: string;
  readonly counts: ImportCounts;
}

const DEFAULT_BATCH = 5_000;
/** Segments handed over and not yet recorded: one per step (check, store, queue) and one recording. */
const PIPELINE_DEPTH = 4;
const MAX_NAME = 120;
const MAX_FIELD = 1000;
const MAX_FIELDS_JSON = 4096;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]+/g;

const zero = (): { -readonly [K in keyof ImportCounts]: number } => ({
  rowsRead: 0,
  queued: 0,
  alreadyQueued: 0,
  duplicates: 0,
  dnc: 0,
  rejected: 0,
  warnings: 0,
});

/**
 * The decoded text as CSV records, read as spreadsheets write them (ragged rows, loose quotes, empty
 * lines skipped); `skipped` collects the line numbers of records that could not be read.
 */
function recordsOf(decoded: Awaited<ReturnType<typeof decodeText>>) {
  const parser = parse({
    delimiter: decoded.delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
  });
  const skipped: number[] = [];
  parser.on('skip', (err: { lines?: number }) => skipped.push(err.lines ?? 0));
  const input = Readable.from(decoded.text, { objectMode: false });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  return { parser, skipped, input };
}

export async function importCsv(
  source: AsyncIterable<Uint8Array>,
  options: CsvImportOptions,
  sink: CsvImportSink,
  zones: PhoneZones = phoneZones(),
): Promise<CsvImportResult> {
  // Every row lives across the pipelined steps and is promoted: bound the garbage V8 lets pile up
  // before a full collection while this runs (gateway/heap.ts).
  const release = holdHeapGrowth(options.heapGrowthPercent ?? DEFAULT_IMPORT_HEAP_GROWTH_PERCENT);
  try {
    return await importRows(source, options, sink, zones);
  } finally {
    release();
  }
}

async function importRows(
  source: AsyncIterable<Uint8Array>,
  options: CsvImportOptions,
  sink: CsvImportSink,
  zones: PhoneZones,
): Promise<CsvImportResult> {
  const decoded = await decodeText(source);
  const { parser, skipped } = recordsOf(decoded);

  const total = zero();
  // The rows read since the last hand-off, their counts and their problems: a segment is written
  // (intake, then progress) as one, so a row's problems are recorded together.
  let seg = segment();
  const seen = new PhoneRows();
  const phones = phoneMemo(normalisePhone, options.defaultCountry);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;

  let header: string[] | undefined;
  let mapping: ColumnMapping | undefined;
  let resolved: ResolvedMapping | undefined;

  const reject = (
    row: number,
    code: RejectCode,
    column: string,
    value: string,
    detail: string = REJECT_CODES[code],
  ) => seg.rejects.push({ row, column, code, severity: 'error', detail, value });
  const warn = (row: number, code: RejectCode, column: string, value: string) => {
    seg.delta.warnings++;
    seg.rejects.push({
      row,
      column,
      code,
      severity: 'warning',
      detail: `${REJECT_CODES[code]}; the row is imported without it`,
      value,
    });
  };

  // The pipeline: segment k is checked (reads) while k-1 is stored (COPY) and k-2 queued, and all
  // of that while k+1 is read. Each step takes the segments in file order (one at a time per
  // step), so ids and queue order stay file order; a failed step fails every later segment, and
  // a segment stored but never queued is taken back out of Postgres.
  const intake = sink.intake;
  let lastChecked: Promise<unknown> = Promise.resolve();
  let lastStored: Promise<unknown> = Promise.resolve();
  let lastQueued: Promise<unknown> = Promise.resolve();
  let lastRecorded: Promise<unknown> = Promise.resolve();
  const inFlight: Promise<unknown>[] = [];
  let stopped = false;
  const stop = () => {
    if (stopped) throw new Error('import stopped');
  };
  // Each step's promise is awaited by the next step; a rejection is never left unhandled meanwhile.
  const quiet = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined);
    return p;
  };

  function handOff(s: Segment): void {
    // The leads go to the intake and are not kept here: the segment keeps each row's number and
    // phone only (what its rejects need), so a lead is garbage once the intake is done with it.
    const { leads } = s;
    s.leads = [];
    const prev = { checked: lastChecked, stored: lastStored, queued: lastQueued, recorded: lastRecorded };
    let queued: Promise<AddedLeads | undefined>;
    if (leads.length === 0) {
      queued = quiet(prev.queued.then(() => undefined));
    } else {
      const checked = quiet(
        (async () => {
          await prev.checked;
          stop();
          return intake.check(leads);
        })(),
      );
      const stored = quiet(
        (async () => {
          await prev.stored;
          const c = await checked;
          stop();
          return intake.store(c);
        })(),
      );
      queued = quiet(
        (async () => {
          const st = await stored;
          try {
            await prev.queued;
            stop();
          } catch (err) {
            await intake.discard(st);
            throw err;
          }
          return intake.queue(st);
        })(),
      );
      lastChecked = checked;
      lastStored = stored;
    }
    lastQueued = queued;
    lastRecorded = quiet(
      (async () => {
        const added = await queued;
        if (added) tally(s, added);
        await prev.recorded;
        const { delta, rejects } = s;
        if (rejects.length > 0 || Object.values(delta).some((n) => n > 0)) {
          await sink.progress(delta, rejects);
          for (const k of Object.keys(total) as (keyof ImportCounts)[]) total[k] += delta[k];
        }
      })(),
    );
    inFlight.push(lastRecorded);
  }

  /** The segment's rows as the intake decided them, into its counts and rejects. */
  function tally(s: Segment, added: AddedLeads): void {
    const { rows, phones, delta, rejects } = s;
    for (const r of added.rows) {
      const row = rows[r.index]!;
      const phone = phones[r.index]!;
      switch (r.status) {
        case 'queued':
          delta.queued++;
          break;
        case 'already_queued':
          delta.alreadyQueued++;
          break;
        case 'duplicate':
          delta.duplicates++;
          rejects.push(problem(row, 'DUPLICATE_IN_CAMPAIGN', phone));
          break;
        case 'dnc':
          delta.dnc++;
          rejects.push(problem(row, 'DNC', phone));
          break;
        case 'no_consent':
          delta.rejected++;
          rejects.push(problem(row, 'CONSENT_MISSING', phone));
          break;
        default: {
          const never: never = r.status;
          throw new Error(`unknown row status ${String(never)}`);
        }
      }
    }
  }

  /** Hand the current segment over; wait while the pipeline is full (one batch per step). */
  async function next(): Promise<void> {
    handOff(seg);
    seg = segment();
    // A failed step stops the import here, at the next hand-off, not at the end of the file.
    while (inFlight.length > PIPELINE_DEPTH) await inFlight.shift();
  }

  const takeSkipped = () => {
    for (const line of skipped.splice(0)) {
      seg.delta.rowsRead++;
      seg.delta.rejected++;
      reject(line, 'ROW_MALFORMED', '', '');
    }
  };

  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      takeSkipped();
      const { record, info } = item;
      if (!header) {
        header = record.map((h) => h.trim());
        mapping = options.mapping ?? guessMapping(header) ?? undefined;
        if (!mapping)
          throw new CsvImportError(
            'MAPPING_NONE',
            'No column of the header looks like a phone number: give a mapping',
          );
        const r = resolveMapping(mapping, header);
        if (!r.ok)
          throw new CsvImportError(
            'MAPPING_INVALID',
            `The mapping names columns the header lacks: ${r.missing.join(', ')}`,
          );
        resolved = r.resolved;
        continue;
      }
      // A row of empty cells (`;;;`) is no lead and no problem: spreadsheets export them.
      if (isBlank(record)) continue;
      // The row a spreadsheet shows: where the record starts (a quoted cell may span lines).
      const row = info.lines - newlinesIn(record);
      seg.delta.rowsRead++;
      const lead = checkRow(record, row, resolved!, options, phones, zones, reject, warn);
      if (!lead) {
        seg.delta.rejected++;
      } else {
        const first = seen.firstRow(lead.phone, row);
        if (first !== 0) {
          seg.delta.duplicates++;
          reject(
            row,
            'DUPLICATE_IN_FILE',
            '',
            lead.phone,
            `${REJECT_CODES.DUPLICATE_IN_FILE} (row ${first})`,
          );
        } else {
          seg.rows.push(row);
          seg.phones.push(lead.phone);
          seg.leads.push(lead);
        }
      }
      if (seg.rows.length >= batchSize || seg.rejects.length >= batchSize) await next();
    }
    takeSkipped();
    if (!header || !mapping) throw new CsvImportError('CSV_EMPTY', 'The file has no header row');
    await next();
    while (inFlight.length > 0) await inFlight.shift();
  } catch (err) {
    // Nothing is left writing when the import answers (a failed import is final): steps not yet
    // started do not start, a segment stored but not queued is taken back.
    stopped = true;
    await Promise.allSettled(inFlight);
    throw err;
  }
  return {
    encoding: decoded.encoding,
    delimiter: decoded.delimiter,
    header,
    mapping,
    sha256: decoded.sha256(),
    counts: total,
  };
}

interface Segment {
  /** The sheet row and the phone of each lead handed over, in the order of `leads`. */
  readonly rows: number[];
  readonly phones: string[];
  /** The leads, until the segment is handed over. */
  leads: NewLead[];
  readonly rejects: ImportReject[];
  readonly delta: { -readonly [K in keyof ImportCounts]: number };
}

const segment = (): Segment => ({ rows: [], phones: [], leads: [], rejects: [], delta: zero() });

const problem = (row: number, code: RejectCode, value: string): ImportReject => ({
  row,
  column: '',
  code,
  severity: 'error',
  detail: REJECT_CODES[code],
  value,
});

function isBlank(record: readonly string[]): boolean {
  for (const c of record) if (c.trim() !== '') return false;
  return true;
}

function newlinesIn(record: readonly string[]): number {
  let n = 0;
  for (const c of record) if (c.includes('\n')) n += newlines(c);
  return n;
}

function newlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

type Report = (row: number, code: RejectCode, column: string, value: string) => void;

/** One record to a lead, or null (its problems reported). */
function checkRow(
  record: readonly string[],
  row: number,
  m: ResolvedMapping,
  options: CsvImportOptions,
  phones: PhoneMemo,
  zones: PhoneZones,
  reject: Report,
  warn: Report,
): NewLead | null {
  const cell = (i: number) => (record[i] ?? '').trim();
  const col = (i: number) => m.header[i] ?? '';

  // Phones in column order: the first valid one is the lead's; the other valid ones are its
  // further numbers; an invalid one is the row's error only when no column holds a valid number.
  let phone: string | undefined;
  let ext: string | undefined;
  const others: { e164: string; i: number }[] = [];
  const bad: { i: number; code: 'PHONE_MISSING' | 'PHONE_INVALID' }[] = [];
  for (const i of m.phones) {
    const raw = cell(i);
    const n = phones.normalise(raw);
    if (!n.ok) {
      if (n.code === 'PHONE_INVALID') bad.push({ i, code: n.code });
      continue;
    }
    if (phone === undefined) {
      phone = n.e164;
      ext = n.ext;
    } else if (n.e164 !== phone && !others.some((o) => o.e164 === n.e164)) others.push({ e164: n.e164, i });
  }
  if (phone === undefined) {
    const first = bad[0];
    if (first) reject(row, first.code, col(first.i), cell(first.i));
    else reject(row, 'PHONE_MISSING', col(m.phones[0]!), '');
    return null;
  }
  for (const b of bad) warn(row, b.code, col(b.i), cell(b.i));

  // Time zone: the column, else the number's zones, else the default; never silently none.
  let timeZone: string[] | undefined;
  const given = m.timeZone === undefined ? '' : cell(m.timeZone);
  if (given !== '') {
    const names = given
      .split(/[,;|]/)
      .map((z) => z.trim())
      .filter(Boolean);
    if (names.length > MAX_CANDIDATE_ZONES || !names.every(isValidZone)) {
      reject(row, 'TIME_ZONE_INVALID', col(m.timeZone!), given);
      return null;
    }
    timeZone = names;
  } else {
    const derived = zones.zonesOf(phone);
    if (derived.length > 0 && derived.length <= MAX_CANDIDATE_ZONES) timeZone = [...derived];
    else if (options.defaultTimeZone) timeZone = [options.defaultTimeZone];
    else {
      reject(row, 'ZONE_UNKNOWN', m.timeZone === undefined ? '' : col(m.timeZone), '');
      return null;
    }
  }

  const name = m.name.map(cell).filter(Boolean).join(' ').replace(CONTROL, ' ');
  if (name.length > MAX_NAME) {
    reject(row, 'NAME_TOO_LONG', col(m.name[0]!), name);
    return null;
  }

  let priority = 0;
  if (m.priority !== undefined && cell(m.priority) !== '') {
    const p = Number(cell(m.priority));
    if (!Number.isInteger(p) || p < 0 || p > MAX_PRIORITY) {
      reject(row, 'PRIORITY_INVALID', col(m.priority), cell(m.priority));
      return null;
    }
    priority = p;
  }

  const fields: Record<string, string> = {};
  if (m.externalRef !== undefined && cell(m.externalRef) !== '') fields.externalRef = cell(m.externalRef);
  // Further numbers, tried in order after the first, each with the row's zone when the file gives
  // one, else its own (else the default; none: dropped with a warning); past MAX_LEAD_PHONES, fields.
  const alternates: { phone: string; timeZone: string[] }[] = [];
  others.forEach((o, k) => {
    if (k + 1 >= MAX_LEAD_PHONES) {
      fields[`phone${k + 2}`] = o.e164;
      return;
    }
    const own = zones.zonesOf(o.e164);
    const zone =
      given !== ''
        ? timeZone
        : own.length > 0 && own.length <= MAX_CANDIDATE_ZONES
          ? [...own]
          : options.defaultTimeZone
            ? [options.defaultTimeZone]
            : undefined;
    if (zone) alternates.push({ phone: o.e164, timeZone: zone });
    else warn(row, 'ZONE_UNKNOWN', col(o.i), cell(o.i));
  });
  if (ext) fields.ext = ext;
  for (const [i, key] of m.fields) {
    const v = cell(i).replace(CONTROL, ' ');
    if (v === '') continue;
    if (v.length > MAX_FIELD) {
      reject(row, 'FIELD_TOO_LONG', col(i), v);
      return null;
    }
    fields[key.replace(CONTROL, ' ')] = v;
  }
  if (JSON.stringify(fields).length > MAX_FIELDS_JSON) {
    reject(row, 'FIELDS_TOO_LARGE', '', '');
    return null;
  }
  const limits = options.fieldLimits;
  if (limits) {
    // What the leads table's trigger counts: every key of the fields, every value's length.
    const long = Object.entries(fields).find(([, v]) => [...v].length > limits.maxValueLength);
    if (long) {
      const i = m.fields.find(([, key]) => key.replace(CONTROL, ' ') === long[0])?.[0];
      reject(row, 'FIELD_OVER_PLAN', i === undefined ? long[0] : col(i), long[1]);
      return null;
    }
    if (Object.keys(fields).length > limits.maxCount) {
      reject(row, 'FIELDS_OVER_PLAN', '', '');
      return null;
    }
  }
  return {
    phone,
    name,
    timeZone: timeZone.length === 1 ? timeZone[0]! : timeZone,
    priority,
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
    ...(alternates.length > 0 ? { alternates } : {}),
  };
}

/** A row of a preview: the lead it would be (null: not imported) and its problems. */
export interface PreviewRow {
  readonly row: number;
  readonly lead: {
    readonly phone: string;
    readonly timeZones: readonly string[];
    readonly name: string;
    readonly fields: Readonly<Record<string, string>>;
    readonly alternates?: readonly { readonly phone: string; readonly timeZones: readonly string[] }[];
  } | null;
  readonly problems: readonly {
    readonly column: string;
    readonly code: RejectCode;
    readonly severity: 'error' | 'warning';
    readonly detail: string;
  }[];
}

export interface CsvPreview {
  readonly encoding: TextEncoding;
  readonly delimiter: Delimiter;
  readonly header: readonly string[];
  readonly mapping: ColumnMapping;
  readonly sample: readonly PreviewRow[];
}

export interface PreviewOptions {
  /** Data rows in the sample. */
  readonly rows?: number;
  /** The source is the head of a longer file: its last record may be cut and is left out. */
  readonly truncated?: boolean;
  /** The numbers of `phones` on the do-not-call (or erasure) list. */
  readonly listed?: (phones: readonly string[]) => Promise<ReadonlySet<string>>;
  /** The numbers of `phones` the campaign refuses for lack of live voice consent (marketing kind). */
  readonly unconsented?: (phones: readonly string[]) => Promise<ReadonlySet<string>>;
}

/**
 * The first rows of a file as the import would read them (the same sniffing, mapping and checks
 * per row, duplicates within the sample, DNC, consent), importing nothing.
 */
export async function previewCsv(
  source: AsyncIterable<Uint8Array>,
  options: CsvImportOptions,
  preview: PreviewOptions = {},
  zones: PhoneZones = phoneZones(),
): Promise<CsvPreview> {
  const want = preview.rows ?? 20;
  const decoded = await decodeText(source);
  const { parser, skipped, input } = recordsOf(decoded);

  // Records in file order: a data record, or the line of one that could not be read.
  const records: ({ row: number; record: string[] } | { row: number; malformed: true })[] = [];
  let header: string[] | undefined;
  let ended = true;
  for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    for (const line of skipped.splice(0)) records.push({ row: line, malformed: true });
    if (!header) {
      header = item.record.map((h) => h.trim());
      continue;
    }
    if (isBlank(item.record)) continue;
    records.push({ row: item.info.lines - newlinesIn(item.record), record: item.record });
    // One more than needed: the last one read may be cut where the head of the file ends.
    if (records.length > want) {
      ended = false;
      break;
    }
  }
  if (ended) for (const line of skipped.splice(0)) records.push({ row: line, malformed: true });
  input.unpipe(parser);
  parser.destroy();
  if (!header) throw new CsvImportError('CSV_EMPTY', 'The file has no header row');
  if (ended && preview.truncated) records.pop();
  const mapping = options.mapping ?? guessMapping(header) ?? undefined;
  if (!mapping)
    throw new CsvImportError(
      'MAPPING_NONE',
      'No column of the header looks like a phone number: give a mapping',
    );
  const r = resolveMapping(mapping, header);
  if (!r.ok)
    throw new CsvImportError(
      'MAPPING_INVALID',
      `The mapping names columns the header lacks: ${r.missing.join(', ')}`,
    );

  const phones = phoneMemo(normalisePhone, options.defaultCountry);
  const seen = new PhoneRows(64);
  type Problem = PreviewRow['problems'][number];
  const rows: { row: number; lead: NewLead | null; problems: Problem[] }[] = [];
  for (const rec of records.slice(0, want)) {
    const problems: Problem[] = [];
    const note =
      (severity: 'error' | 'warning') =>
      (_row: number, code: RejectCode, column: string, _value: string, detail?: string) =>
        problems.push({
          column,
          code,
          severity,
          detail:
            detail ??
            (severity === 'warning'
              ? `${REJECT_CODES[code]}; the row is imported without it`
              : REJECT_CODES[code]),
        });
    if ('malformed' in rec) {
      note('error')(rec.row, 'ROW_MALFORMED', '', '');
      rows.push({ row: rec.row, lead: null, problems });
      continue;
    }
    let lead = checkRow(
      rec.record,
      rec.row,
      r.resolved,
      options,
      phones,
      zones,
      note('error'),
      note('warning'),
    );
    if (lead) {
      const first = seen.firstRow(lead.phone, rec.row);
      if (first !== 0) {
        note('error')(
          rec.row,
          'DUPLICATE_IN_FILE',
          '',
          '',
          `${REJECT_CODES.DUPLICATE_IN_FILE} (row ${first})`,
        );
        lead = null;
      }
    }
    rows.push({ row: rec.row, lead, problems });
  }
  const leadPhones = rows.flatMap((x) =>
    x.lead ? [x.lead.phone, ...(x.lead.alternates ?? []).map((n) => n.phone)] : [],
  );
  const listed = preview.listed ? await preview.listed(leadPhones) : new Set<string>();
  const unconsented = preview.unconsented ? await preview.unconsented(leadPhones) : new Set<string>();
  return {
    encoding: decoded.encoding,
    delimiter: decoded.delimiter,
    header,
    mapping,
    sample: rows.map(({ row, lead, problems }) => {
      if (lead && listed.has(lead.phone)) {
        problems.push({ column: '', code: 'DNC', severity: 'error', detail: REJECT_CODES.DNC });
        return { row, lead: null, problems };
      }
      if (lead && unconsented.has(lead.phone)) {
        problems.push({
          column: '',
          code: 'CONSENT_MISSING',
          severity: 'error',
          detail: REJECT_CODES.CONSENT_MISSING,
        });
        return { row, lead: null, problems };
      }
      return {
        row,
        lead: lead && {
          phone: lead.phone,
          timeZones: typeof lead.timeZone === 'string' ? [lead.timeZone] : [...(lead.timeZone ?? [])],
          name: lead.name ?? '',
          fields: lead.fields ?? {},
          // As the import keeps them: a listed (or unconsented) further number is dropped.
          ...(lead.alternates
            ? {
                alternates: lead.alternates
                  .filter((n) => !listed.has(n.phone) && !unconsented.has(n.phone))
                  .map((n) => ({ phone: n.phone, timeZones: [n.timeZone ?? []].flat() })),
              }
            : {}),
        },
        problems,
      };
    }),
  };
}
