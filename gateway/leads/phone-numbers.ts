// Phone numbers as people type them into spreadsheets, made E.164: national formats of the
// tenant's default country, spaces, dots, dashes, parentheses, a "(0)" trunk prefix, "00" and
// other international prefixes, extensions split off. Validity is libphonenumber-js's (number
// length and ranges per country), not a regex: `+10000000` is no number.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { isSupportedCountry } from 'libphonenumber-js';

export type PhoneProblem = 'PHONE_MISSING' | 'PHONE_INVALID';

export type NormalisedPhone =
  | { readonly ok: true; readonly e164: string; readonly ext?: string }
  | { readonly ok: false; readonly code: PhoneProblem };

/** ISO 3166-1 alpha-2 codes libphonenumber-js knows (upper case). */
export const isCountryCode = (code: string): code is CountryCode => isSupportedCountry(code);

export function normalisePhone(raw: string, defaultCountry: CountryCode | undefined): NormalisedPhone {
  const text = raw.trim();
  if (text === '') return { ok: false, code: 'PHONE_MISSING' };
  // "00" is the international prefix of most of the world but not of every default country (the
  // US dials 011, Indonesia 001/007): a number written 00<country code>... is international
  // wherever it was written, and read so first (no national number begins with 00).
  const compact = text.replace(/[\s().-]/g, '');
  if (compact.startsWith('00')) {
    const intl = parsePhoneNumberFromString(`+${compact.slice(2)}`);
    if (intl?.isValid()) return ok(intl.number, intl.ext);
  }
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  if (parsed?.isValid()) return ok(parsed.number, parsed.ext);
  return { ok: false, code: 'PHONE_INVALID' };
}

const ok = (e164: string, ext: string | undefined): NormalisedPhone =>
  ext ? { ok: true, e164, ext } : { ok: true, e164 };
