// Numbers for the do-not-call list, normalised as lead imports normalise theirs
// (gateway/leads/phone-numbers.ts: national formats of the default country, spaces, dots,
// parentheses, "(0)" and "00" prefixes), and one step more lenient: a number libphonenumber-js
// reads and finds of a possible length for its country, but outside the ranges it knows to be
// assigned (the UK's +447700 900xxx drama range, a new number block), is still listed as it reads
// it. Listing too much never makes a call; refusing a number a person asked not to be called on
// would. Only text that is no phone number at all (`+10000000`) is refused.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { normalisePhone } from '../leads/phone-numbers.js';
import type { NormalisedPhone } from '../leads/phone-numbers.js';

export function normaliseDncNumber(raw: string, defaultCountry: CountryCode | undefined): NormalisedPhone {
  const strict = normalisePhone(raw, defaultCountry);
  if (strict.ok || strict.code === 'PHONE_MISSING') return strict;
  const compact = raw.trim().replace(/[\s().-]/g, '');
  const text = compact.startsWith('00') ? `+${compact.slice(2)}` : raw.trim();
  const parsed = parsePhoneNumberFromString(text, defaultCountry);
  return parsed?.isPossible() ? { ok: true, e164: parsed.number } : strict;
}
