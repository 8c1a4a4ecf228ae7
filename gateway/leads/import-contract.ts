// What the callers of the CSV import need without loading it: the stable codes of its rejects
// report, its error, and how much of a file it reads to sniff it. The import itself (csv-parse,
// iconv-lite, chardet, libphonenumber's zone data) is loaded only when an import or a preview
// runs (gateway/http/import-routes.ts), so a gateway starts without them.
import { MAX_PRIORITY } from '../../engine/lead.js';

/** Bytes looked at before deciding the encoding and separator (the rest is never buffered). */
export const SNIFF_BYTES = 256 * 1024;

/** Stable codes of the rejects report. */
export const REJECT_CODES = {
  PHONE_MISSING: 'No phone number in any phone column',
  PHONE_INVALID: 'Not a valid phone number for the default country or in international form',
  ZONE_UNKNOWN: 'No time zone: none given, none derivable from the number, and no default time zone',
  TIME_ZONE_INVALID: 'The time zone column is not an IANA time zone name',
  NAME_TOO_LONG: 'The name is longer than 120 characters',
  FIELD_TOO_LONG: 'A custom field is longer than 1,000 characters',
  FIELDS_TOO_LARGE: 'The custom fields are more than 4 KB together',
  FIELD_OVER_PLAN: "A custom field is longer than the tenant plan's leadFields.maxValueLength",
  FIELDS_OVER_PLAN: "The row has more custom fields than the tenant plan's leadFields.maxCount",
  PRIORITY_INVALID: `The priority is not a whole number from 0 to ${MAX_PRIORITY}`,
  ROW_MALFORMED: 'The CSV record could not be read (unbalanced quotes)',
  DUPLICATE_IN_FILE: 'The number is on an earlier row of this file',
  DUPLICATE_IN_CAMPAIGN: 'The number is already queued in this campaign',
  DNC: "The number is on the tenant's do-not-call list",
  CONSENT_MISSING: 'The campaign is of the marketing kind and the number has no live voice consent on record',
} as const;
export type RejectCode = keyof typeof REJECT_CODES;

export class CsvImportError extends Error {
  override readonly name = 'CsvImportError';
  constructor(
    readonly code: 'CSV_EMPTY' | 'MAPPING_NONE' | 'MAPPING_INVALID',
    message: string,
  ) {
    super(message);
  }
}
