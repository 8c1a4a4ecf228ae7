// The phone memo answers exactly as libphonenumber-js does: for numbers of several countries,
// written every way a spreadsheet holds them (national, international, punctuated, with trunk
// and international prefixes, too short, too long, random digits), the memo's answer equals a
// direct reading, number by number, while most numbers are answered from the memo.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CountryCode } from 'libphonenumber-js';
import { patternShape, phoneMemo } from '../../gateway/leads/phone-memo.js';
import { normalisePhone } from '../../gateway/leads/phone-numbers.js';

const COUNTRIES: readonly CountryCode[] = [
  'US',
  'CA',
  'ID',
  'MY',
  'GB',
  'DE',
  'AR',
  'FR',
  'IN',
  'AU',
  'MX',
  'BR',
];

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** A digit string written with the punctuation spreadsheets use. */
const written = (prefixes: fc.Arbitrary<string>) =>
  fc
    .tuple(
      prefixes,
      digits(4, 12),
      fc.constantFrom('', ' ', '-', '.'),
      fc.boolean(),
      fc.integer({ min: 1, max: 4 }),
    )
    .map(([prefix, body, sep, parens, cut]) => {
      const head = body.slice(0, cut);
      const rest = body.slice(cut);
      const mid = rest.length > 4 ? `${rest.slice(0, -4)}${sep}${rest.slice(-4)}` : rest;
      return `${prefix}${parens ? `(${head})` : head}${sep || ' '}${mid}`;
    });

describe('phone memo', () => {
  it('reads pattern shapes: length bounds and how deep the digits are constrained', () => {
    expect(patternShape('[2-9]\\d{6}')).toEqual({ min: 7, max: 7, depth: 1 });
    expect(patternShape('52[34][2-9]1[02-9]\\d{4}')).toEqual({ min: 10, max: 10, depth: 6 });
    expect(patternShape('(?:1|[368]\\d|4[0-8])\\d{3,13}')).toEqual({ min: 4, max: 15, depth: 2 });
    expect(patternShape('\\d{2}[2-9]?')).toEqual({ min: 2, max: 3, depth: 3 });
    expect(patternShape('1\\d*')).toEqual({ min: 1, max: Infinity, depth: 1 });
    expect(patternShape('(?:2\\d)+')).toMatchObject({ depth: Infinity });
    expect(() => patternShape('(?=1)2')).toThrow();
    expect(() => patternShape('\\s1')).toThrow();
  });

  it('answers every number exactly as libphonenumber-js does', () => {
    const prefixes = fc.constantFrom(
      '',
      '+',
      '+1 ',
      '1-',
      '0',
      '00',
      '011 ',
      '+62 ',
      '+60',
      '+44 (0)',
      '+49 ',
      '62',
      '60',
      '+54 9 ',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...COUNTRIES),
        fc.array(written(prefixes), { minLength: 1, maxLength: 60 }),
        (country, numbers) => {
          const memo = phoneMemo(normalisePhone, country);
          // Twice: the second pass is answered from the memo where it may be.
          for (const n of [...numbers, ...numbers])
            expect(memo.normalise(n)).toEqual(normalisePhone(n, country));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers numbers sharing their first digits exactly as libphonenumber-js does', () => {
    const prefixes = fc.constantFrom(
      '',
      '+',
      '+1 ',
      '1-',
      '0',
      '+62 ',
      '+60 ',
      '+44 ',
      '+49 ',
      '+54 ',
      '+61 ',
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...COUNTRIES),
        prefixes,
        digits(2, 9),
        fc.array(digits(1, 6), { minLength: 5, maxLength: 40 }),
        (country, prefix, head, tails) => {
          const memo = phoneMemo(normalisePhone, country);
          for (const t of tails) {
            const n = `${prefix}${head} ${t}`;
            expect(memo.normalise(n), n).toEqual(normalisePhone(n, country));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('answers neighbours of a number read before (same first digits) exactly, mostly from the memo', () => {
    for (const [country, base] of [
      ['US', '(212) 555-'],
      ['US', '+1 415 200 '],
      ['US', '1-900-555-'],
      ['CA', '604.555.'],
      ['ID', '0812-3456-'],
      ['ID', '+62 21 5555 '],
      ['MY', '012-345 '],
      ['GB', '020 7946 '],
      ['GB', '+44 (0)7700 900'],
      ['DE', '030 1234'],
      ['AR', '011 15 4123 '],
    ] as const) {
      const memo = phoneMemo(normalisePhone, country);
      for (let i = 0; i < 3000; i++) {
        const n = `${base}${String((i * 7919) % 10_000).padStart(4, '0')}`;
        expect(memo.normalise(n), n).toEqual(normalisePhone(n, country));
      }
      if (country === 'US' || country === 'CA') expect(memo.stats.hits).toBeGreaterThan(2900);
    }
  });

  it('reads through without a default country, other calling codes, extensions and other characters', () => {
    const none = phoneMemo(normalisePhone, undefined);
    expect(none.normalise('+1 212 555 0100')).toEqual(normalisePhone('+1 212 555 0100', undefined));
    const us = phoneMemo(normalisePhone, 'US');
    for (const n of [
      '+62 812 3456 7890',
      '212-555-0100 ext. 12',
      '212/555/0100',
      '００１２',
      '0062 812 3456 7890',
      '011 62 812 3456 7890',
    ]) {
      expect(us.normalise(n)).toEqual(normalisePhone(n, 'US'));
      expect(us.normalise(n)).toEqual(normalisePhone(n, 'US'));
    }
    expect(us.stats.hits).toBe(0);
  });
});
