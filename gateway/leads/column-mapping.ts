// Which column of an uploaded file is what: one or more phone columns (tried in order: the first
// valid number is the lead's, the others are kept as custom fields), the name (one column, or
// first and last name joined), an external reference, the time zone, the priority; every other
// column becomes a custom field. Guessed from the header in the languages our tenants write
// (English, Indonesian, Malay, Spanish, German, French); an explicit mapping replaces the guess.
import { z } from 'zod';

const column = z.string().min(1).max(200);

export const columnMappingSchema = z.strictObject({
  /** Phone columns in the order they are tried. */
  phones: z.array(column).min(1).max(4),
  /** Name columns, joined with a space (e.g. first and last name). */
  name: z.array(column).max(3).default([]),
  externalRef: column.optional(),
  timeZone: column.optional(),
  priority: column.optional(),
  /** Columns kept as custom fields; default every column not mapped above. */
  fields: z.array(column).max(50).optional(),
});

export type ColumnMappingInput = z.input<typeof columnMappingSchema>;
export type ColumnMapping = z.output<typeof columnMappingSchema>;

/** Header text as compared: lower case, letters and digits only ("Phone #2" → "phone2"). */
const key = (header: string): string =>
  header
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');

const PHONE =
  /(phone|mobile|cell|msisdn|whatsapp|handphone|telefon|telefono|telepon|telp|tlp|movil|portable|handy|^tel\d*$|^hp\d*$|^nohp|^notel|^number\d*$|^nomor)/;
const NAME = /^(name|fullname|nama|namalengkap|nombre|contactname|customername|leadname|contact|client)$/;
const FIRST = /^(firstname|givenname|forename|first|namadepan|vorname|prenom)$/;
const LAST = /^(lastname|surname|familyname|last|namabelakang|nachname|apellido|nom)$/;
const REF = /^(id|ref|reference|externalid|externalref|customerid|crmid|leadid|accountid|recordid)$/;
const ZONE = /^(timezone|tz|zone|zonawaktu|zeitzone|fuseauhoraire|zonahoraria)$/;
const PRIORITY = /^(priority|prio|prioritas)$/;

/** The mapping a header suggests; null when it names no phone column. */
export function guessMapping(header: readonly string[]): ColumnMapping | null {
  const keys = header.map(key);
  const find = (re: RegExp) => header.find((_, i) => re.test(keys[i]!));
  const phones = header.filter((_, i) => PHONE.test(keys[i]!));
  if (phones.length === 0) return null;
  const full = find(NAME);
  const first = find(FIRST);
  const last = find(LAST);
  // First and last name together beat a lone "name"-like column (French "Nom" is the surname).
  const name =
    first && last ? [first, last] : full ? [full] : [first, last].filter((c): c is string => c !== undefined);
  const mapping: ColumnMapping = { phones: phones.slice(0, 4), name };
  const ref = find(REF);
  const zone = find(ZONE);
  const priority = find(PRIORITY);
  if (ref) mapping.externalRef = ref;
  if (zone) mapping.timeZone = zone;
  if (priority) mapping.priority = priority;
  return mapping;
}

export interface ResolvedMapping {
  readonly phones: readonly number[];
  readonly name: readonly number[];
  readonly externalRef: number | undefined;
  readonly timeZone: number | undefined;
  readonly priority: number | undefined;
  /** [column index, field name] */
  readonly fields: readonly (readonly [number, string])[];
  readonly header: readonly string[];
}

/** Column names to indexes; every named column must be in the header (listed when not). */
export function resolveMapping(
  mapping: ColumnMapping,
  header: readonly string[],
): { ok: true; resolved: ResolvedMapping } | { ok: false; missing: string[] } {
  const trimmed = header.map((h) => h.trim());
  const missing: string[] = [];
  const at = (name: string): number => {
    const i = trimmed.indexOf(name.trim());
    if (i < 0) missing.push(name);
    return i;
  };
  const phones = mapping.phones.map(at);
  const name = mapping.name.map(at);
  const externalRef = mapping.externalRef === undefined ? undefined : at(mapping.externalRef);
  const timeZone = mapping.timeZone === undefined ? undefined : at(mapping.timeZone);
  const priority = mapping.priority === undefined ? undefined : at(mapping.priority);
  const used = new Set([...phones, ...name, externalRef, timeZone, priority]);
  const fieldCols = mapping.fields
    ? mapping.fields.map(at)
    : trimmed.map((_, i) => i).filter((i) => !used.has(i) && trimmed[i] !== '');
  if (missing.length > 0) return { ok: false, missing };
  return {
    ok: true,
    resolved: {
      phones,
      name,
      externalRef,
      timeZone,
      priority,
      fields: fieldCols.map((i) => [i, trimmed[i]!.slice(0, 64)] as const),
      header: trimmed,
    },
  };
}
