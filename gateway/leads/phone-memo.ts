// A memo in front of libphonenumber-js for the numbers a lead file is made of: most rows of an
// export share their country and the first digits of their numbers (an area code, an exchange),
// and libphonenumber-js spends ~25 µs on each number, most of it building the same regular
// expressions again (its `matchesEntirely` compiles `^(?:pattern)$` on every call). The memo reads
// a number once through libphonenumber-js and reuses the outcome for every later number that
// libphonenumber-js provably treats the same way; any other number goes to libphonenumber-js.
//
// Why the reuse is exact. A number written with digits, spaces, dots, dashes and parentheses
// only (and a leading +) is, to libphonenumber-js, its digit string D and whether it starts with
// +: the punctuation is dropped before anything is decided (no extension, no URI, no second
// number can be written with those characters). Every decision after that is a regular
// expression of the numbering plan, matched from an offset near the start of D (after a country
// calling code, a national prefix), and a length check. The metadata's expressions constrain
// only their first few digits (`[2-9]\d{6}`: one; `52[34][2-9]1[02-9]\d{4}`: six) and accept any
// digit after that, so two numbers of the same length that agree on their first
// `offset + depth` digits go through the same decisions and come out the same: both valid with
// the same calling code and the same digits after the stripped prefix, or both invalid. The
// depth is computed from the metadata itself (every expression of every country sharing the
// calling code); an expression this module cannot read makes the depth infinite (no reuse).
// Numbers starting with 00 or the default country's international prefix, numbers of another
// calling code, and a first reading whose digits are not the input's digits (a national prefix
// rewritten, as in Argentina) are never reused.
import metadata from 'libphonenumber-js/metadata.min.json';
import type { CountryCode } from 'libphonenumber-js';
import type { NormalisedPhone } from './phone-numbers.js';

/** What libphonenumber-js is asked: the number as typed, the default country. */
export type Normalise = (raw: string, defaultCountry: CountryCode | undefined) => NormalisedPhone;

interface Shape {
  readonly min: number;
  readonly max: number;
  /** Furthest end position of a character that is not "any digit" (0: none). */
  readonly depth: number;
}

const ANY: Shape = { min: 1, max: 1, depth: 0 };
const ONE: Shape = { min: 1, max: 1, depth: 1 };

/** The shape of a regular expression of the metadata; throws on syntax it does not read. */
export function patternShape(source: string): Shape {
  let i = 0;
  const fail = (): never => {
    throw new Error(`unread pattern syntax at ${i} of ${source}`);
  };
  const alternation = (): Shape => {
    let s = sequence();
    while (source[i] === '|') {
      i++;
      const t = sequence();
      s = { min: Math.min(s.min, t.min), max: Math.max(s.max, t.max), depth: Math.max(s.depth, t.depth) };
    }
    return s;
  };
  const sequence = (): Shape => {
    let min = 0;
    let max = 0;
    let depth = 0;
    while (i < source.length && source[i] !== '|' && source[i] !== ')') {
      const s = quantified();
      if (s.depth > 0) depth = Math.max(depth, max + s.depth);
      min += s.min;
      max += s.max;
    }
    return { min, max, depth };
  };
  const quantified = (): Shape => {
    const a = atom();
    const c = source[i];
    let lo: number;
    let hi: number;
    if (c === '?') [lo, hi] = [0, 1];
    else if (c === '*') [lo, hi] = [0, Infinity];
    else if (c === '+') [lo, hi] = [1, Infinity];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (!m) return fail();
      lo = Number(m[1]);
      hi = m[2] === undefined ? lo : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length - 1;
    } else return a;
    i++;
    if (source[i] === '?') i++; // lazy: the same strings
    return {
      min: lo * a.min,
      max: hi * a.max,
      depth: a.depth === 0 ? 0 : hi === Infinity ? Infinity : (hi - 1) * a.max + a.depth,
    };
  };
  const atom = (): Shape => {
    const c = source[i];
    if (c === '(') {
      i++;
      if (source.startsWith('?:', i)) i += 2;
      else if (source[i] === '?') fail();
      const s = alternation();
      if (source[i] !== ')') fail();
      i++;
      return s;
    }
    if (c === '\\') {
      const e = source[i + 1];
      i += 2;
      if (e === 'd') return ANY;
      if (e !== undefined && /[^\w]/.test(e)) return ONE; // an escaped punctuation character
      return fail();
    }
    if (c === '[') {
      const end = source.indexOf(']', i + 1);
      if (end < 0) fail();
      const body = source.slice(i + 1, end);
      i = end + 1;
      return /^(0-9|\\d)$/.test(body) ? ANY : ONE;
    }
    if (c === '.') {
      i++;
      return ANY;
    }
    if (c === '$') {
      // The end of the input: it matches no character (the length is part of the memo key).
      i++;
      return { min: 0, max: 0, depth: 0 };
    }
    if (c === undefined || '^$)|?*+{}]'.includes(c)) return fail();
    i++;
    return ONE;
  };
  const s = alternation();
  if (i !== source.length) fail();
  return s;
}

interface Plan {
  readonly callingCode: string;
  /** Digits an expression of the plan may look at, from where it is applied. */
  readonly depth: number;
  /** Longest national prefix the plan may strip. */
  readonly prefix: number;
  /**
   * Longest national number a prefix expression may take whole (a branch ending in `$`, such as
   * Antigua's `([457]\d{6})$` for local numbers): numbers this short after the calling code are
   * not reused.
   */
  readonly whole: number;
  readonly idd: RegExp | undefined;
}

type CountryMeta = readonly unknown[];
const countries = (metadata as unknown as { countries: Record<string, CountryMeta> }).countries;
const callingCodes = (metadata as unknown as { country_calling_codes: Record<string, readonly string[]> })
  .country_calling_codes;

function stringsOf(x: unknown, out: string[]): string[] {
  if (typeof x === 'string') out.push(x);
  else if (Array.isArray(x)) for (const y of x) stringsOf(y, out);
  return out;
}

/** `a|(b|c)|d` → `a`, `(b|c)`, `d`. */
function topLevelBranches(source: string): string[] {
  const out: string[] = [];
  let level = 0;
  let start = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '(') level++;
    else if (c === ')') level--;
    else if (c === '|' && level === 0) {
      out.push(source.slice(start, i));
      start = i + 1;
    }
  }
  out.push(source.slice(start));
  return out;
}

const plans = new Map<string, Plan | null>();

/** The default country's plan; null when its numbers are never reused. */
function planOf(country: CountryCode): Plan | null {
  let plan = plans.get(country);
  if (plan !== undefined) return plan;
  plan = null;
  const own = countries[country];
  const callingCode = own?.[0];
  if (typeof callingCode === 'string') {
    let depth = 0;
    let prefix = 0;
    let whole = 0;
    try {
      for (const member of callingCodes[callingCode] ?? []) {
        const meta = countries[member] ?? [];
        for (const s of stringsOf(meta, [])) {
          // Format templates ("$1 $2", "0$1") are output, not expressions.
          if (s === '' || s === callingCode || s.includes('$')) continue;
          depth = Math.max(depth, patternShape(s).depth);
        }
        // The national prefix ([5]) and the expression that strips it ([7], default the prefix),
        // branch by branch: a branch ending in `$` strips only a number of its own length.
        for (const s of [meta[5], meta[7]]) {
          if (typeof s !== 'string' || s === '') continue;
          for (const branch of topLevelBranches(s)) {
            const max = patternShape(branch).max;
            if (branch.endsWith('$') && !branch.endsWith('\\$')) whole = Math.max(whole, max);
            else prefix = Math.max(prefix, max);
          }
        }
      }
      const idd = own![1];
      if (Number.isFinite(depth) && Number.isFinite(prefix))
        plan = {
          callingCode,
          depth,
          prefix,
          whole,
          idd: typeof idd === 'string' && idd !== '' ? new RegExp(`^(?:${idd})`) : undefined,
        };
    } catch {
      plan = null;
    }
  }
  plans.set(country, plan);
  return plan;
}

// Digits, spaces, dots, dashes and parentheses, a + only first.
const SIMPLE = /^\+?[0-9 ().-]+$/;
const PUNCTUATION = /[ ().+-]/g;
/** Entries kept before the memo starts over (a few MB at most). */
const MAX_ENTRIES = 200_000;

interface Entry {
  readonly ok: boolean;
  /** For a valid number: the E.164 text before the input's kept digits. */
  readonly head: string;
  /** How many leading digits of the input the E.164 number does not keep. */
  readonly drop: number;
}
const INVALID: Entry = { ok: false, head: '', drop: 0 };

export interface PhoneMemo {
  normalise(raw: string): NormalisedPhone;
  /** Numbers answered from the memo, and numbers read through libphonenumber-js. */
  readonly stats: { hits: number; misses: number };
}

/** A memo for one default country (none: every number goes to `normalise`). */
export function phoneMemo(normalise: Normalise, defaultCountry: CountryCode | undefined): PhoneMemo {
  const plan = defaultCountry ? planOf(defaultCountry) : null;
  const entries = new Map<string, Entry>();
  const stats = { hits: 0, misses: 0 };

  /** The memo key of a digit string, or undefined when it may not be reused. */
  const keyOf = (p: Plan, plus: boolean, digits: string): string | undefined => {
    if (digits.startsWith('00') || (!plus && p.idd?.test(digits))) return undefined;
    const cc = p.callingCode;
    // Where the plan's expressions may be applied: after the calling code (written with +, or
    // without it) and a national prefix. Upper bound: both, whenever the digits allow.
    let offset = 0;
    if (plus) {
      if (!digits.startsWith(cc)) return undefined;
      offset = cc.length;
    } else if (digits.startsWith(cc)) offset = cc.length;
    if (digits.length - offset <= p.whole) return undefined;
    offset += p.prefix;
    const take = offset + p.depth;
    if (take >= digits.length) return undefined;
    return `${plus ? '+' : ''}${digits.length}:${digits.slice(0, take)}`;
  };

  return {
    stats,
    normalise(raw) {
      const text = raw.trim();
      if (!plan || text.length > 40 || !SIMPLE.test(text)) return normalise(raw, defaultCountry);
      const plus = text.startsWith('+');
      const digits = text.replace(PUNCTUATION, '');
      const key = digits.length >= 6 ? keyOf(plan, plus, digits) : undefined;
      if (key === undefined) return normalise(raw, defaultCountry);
      const hit = entries.get(key);
      if (hit) {
        stats.hits++;
        if (!hit.ok) return { ok: false, code: 'PHONE_INVALID' };
        return { ok: true, e164: hit.head + digits.slice(hit.drop) };
      }
      stats.misses++;
      const n = normalise(raw, defaultCountry);
      let entry: Entry | undefined;
      if (!n.ok) entry = n.code === 'PHONE_INVALID' ? INVALID : undefined;
      else if (n.ext === undefined) {
        // Reused only when the E.164 number is a calling code and the input's last digits.
        const national = n.e164.slice(1 + plan.callingCode.length);
        if (n.e164.startsWith(`+${plan.callingCode}`) && digits.endsWith(national))
          entry = { ok: true, head: `+${plan.callingCode}`, drop: digits.length - national.length };
      }
      if (entry) {
        if (entries.size >= MAX_ENTRIES) entries.clear();
        entries.set(key, entry);
      }
      return n;
    },
  };
}
