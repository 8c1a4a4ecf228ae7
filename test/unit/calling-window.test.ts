// Calling windows: local allowed hours become exact UTC intervals, across DST, odd offsets and
// several candidate zones, and the encoded form the Lua scripts read answers "open now?" the same.
import fc from 'fast-check';
import { DateTime, Settings } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  ALWAYS_OPEN,
  UNKNOWN_ZONE,
  WINDOW_HORIZON_MS,
  callingWindowSchema,
  computeWindow,
  decodeWindow,
  encodeWindow,
  isOpenAt,
  isValidZone,
  nextOpening,
  openIntervals,
  zoneKey,
  zonesOf,
} from '../../engine/calling-window.js';
import type { CallingWindow, Interval, ZoneKey } from '../../engine/calling-window.js';
import { isEngineError } from '../../engine/errors.js';
import type { EngineError, EngineErrorCode } from '../../engine/errors.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Epoch ms of a UTC wall time, month 1-based. */
function utc(year: number, month: number, day: number, hour = 0, minute = 0): number {
  return Date.UTC(year, month - 1, day, hour, minute);
}

function daily(from: string, to: string, days = [1, 2, 3, 4, 5, 6, 7]): CallingWindow {
  return { rules: [{ days, from, to }] };
}

const SUNDAY = [7];
const WEEKDAYS = [1, 2, 3, 4, 5];

function expectEngineError(fn: () => unknown, code: EngineErrorCode): EngineError {
  try {
    fn();
  } catch (err) {
    if (isEngineError(err, code)) return err;
    throw err;
  }
  return expect.fail(`expected an EngineError ${code}`);
}

describe('zone keys', () => {
  it('an unknown zone is the empty key however it is given', () => {
    for (const none of [null, undefined, [], '']) expect(zoneKey(none)).toBe(UNKNOWN_ZONE);
    expect(UNKNOWN_ZONE).toBe('');
    expect(zonesOf(UNKNOWN_ZONE)).toEqual([]);
  });

  it('leads with the same candidate zones share one key, whatever the order or repetition', () => {
    const key = zoneKey(['America/New_York', 'America/Chicago', 'America/New_York']);
    expect(key).toBe('America/Chicago,America/New_York');
    expect(zoneKey(['America/Chicago', 'America/New_York'])).toBe(key);
    expect(zonesOf(key)).toEqual(['America/Chicago', 'America/New_York']);
    expect(zoneKey('Europe/London')).toBe('Europe/London');
    expect(zoneKey(['Europe/London'])).toBe('Europe/London');
  });

  it('a name that is not a time zone is refused as LEAD_INVALID, naming the zone', () => {
    for (const bad of ['Mars/Olympus', 'UTC+3', '+03:00', 'GMT-5', 'Europe/London,Europe/Paris']) {
      const err = expectEngineError(() => zoneKey(bad), 'LEAD_INVALID');
      expect(err.message).toBe(`unknown time zone "${bad}"`);
      expect(err.details).toEqual({ zone: bad });
    }
    expectEngineError(() => zoneKey(['Europe/London', 'Nowhere/Land']), 'LEAD_INVALID');
    expectEngineError(() => zoneKey(['']), 'LEAD_INVALID');
  });

  it('IANA names, UTC and Etc zones are valid; fixed offsets are not', () => {
    for (const good of ['Europe/London', 'Asia/Kathmandu', 'UTC', 'Etc/UTC', 'Etc/GMT+3']) {
      expect(isValidZone(good)).toBe(true);
      expect(isValidZone(good)).toBe(true); // the memoized answer is the same
    }
    for (const bad of ['', 'UTC+3', 'utc-03:00', '+03:00', 'Mars/Olympus'])
      expect(isValidZone(bad)).toBe(false);
  });

  it('a key that names an unknown zone is refused when computing intervals', () => {
    expectEngineError(() => openIntervals(ALWAYS_OPEN, 'Nowhere/Land' as ZoneKey, 0, DAY_MS), 'LEAD_INVALID');
  });
});

describe('calling window schema', () => {
  it('accepts 24:00 as an end and refuses rules that end before they start', () => {
    expect(callingWindowSchema.safeParse(daily('18:00', '24:00')).success).toBe(true);
    expect(callingWindowSchema.safeParse(daily('21:00', '09:00')).success).toBe(false);
    expect(callingWindowSchema.safeParse(daily('09:00', '09:00')).success).toBe(false);
    expect(callingWindowSchema.safeParse(daily('24:00', '24:00')).success).toBe(false);
    expect(
      callingWindowSchema.safeParse({ rules: [{ days: [0], from: '09:00', to: '10:00' }] }).success,
    ).toBe(false);
  });

  it('a window that skipped the schema with a malformed time is refused as CAMPAIGN_INVALID', () => {
    const key = zoneKey('UTC');
    expectEngineError(() => openIntervals(daily('9:00', '17:00'), key, 0, DAY_MS), 'CAMPAIGN_INVALID');
  });
});

describe('local hours become UTC intervals', () => {
  const nineToNine = daily('09:00', '21:00', WEEKDAYS);

  it('09:00-21:00 on a winter weekday in London is 09:00Z-21:00Z, and 08:00Z-20:00Z in summer', () => {
    const london = zoneKey('Europe/London');
    expect(openIntervals(nineToNine, london, utc(2026, 1, 14), utc(2026, 1, 15))).toEqual([
      { start: utc(2026, 1, 14, 9), end: utc(2026, 1, 14, 21) },
    ]);
    expect(openIntervals(nineToNine, london, utc(2026, 7, 15), utc(2026, 7, 16))).toEqual([
      { start: utc(2026, 7, 15, 8), end: utc(2026, 7, 15, 20) },
    ]);
  });

  it('a day not in the rule is closed all day', () => {
    expect(openIntervals(nineToNine, zoneKey('Europe/London'), utc(2026, 1, 17), utc(2026, 1, 19))).toEqual(
      [],
    );
  });

  it('intervals are clipped to the requested range', () => {
    expect(
      openIntervals(nineToNine, zoneKey('Europe/London'), utc(2026, 1, 14, 12), utc(2026, 1, 14, 15, 30)),
    ).toEqual([{ start: utc(2026, 1, 14, 12), end: utc(2026, 1, 14, 15, 30) }]);
    expect(
      openIntervals(nineToNine, zoneKey('Europe/London'), utc(2026, 1, 14, 12), utc(2026, 1, 14, 12)),
    ).toEqual([]);
  });

  it('New York spring-forward day (2026-03-08): 09:00-21:00 EDT is 13:00Z-01:00Z, the day before 14:00Z-02:00Z', () => {
    expect(
      openIntervals(
        daily('09:00', '21:00'),
        zoneKey('America/New_York'),
        utc(2026, 3, 7, 12),
        utc(2026, 3, 9, 12),
      ),
    ).toEqual([
      { start: utc(2026, 3, 7, 14), end: utc(2026, 3, 8, 2) },
      { start: utc(2026, 3, 8, 13), end: utc(2026, 3, 9, 1) },
    ]);
  });

  it('New York fall-back day (2026-11-01): 09:00-21:00 EST is 14:00Z-02:00Z, the day before 13:00Z-01:00Z', () => {
    expect(
      openIntervals(
        daily('09:00', '21:00'),
        zoneKey('America/New_York'),
        utc(2026, 10, 31, 12),
        utc(2026, 11, 2, 12),
      ),
    ).toEqual([
      { start: utc(2026, 10, 31, 13), end: utc(2026, 11, 1, 1) },
      { start: utc(2026, 11, 1, 14), end: utc(2026, 11, 2, 2) },
    ]);
  });

  it('London DST days (2026-03-29 and 2026-10-25) move 09:00-21:00 by an hour from the next day on', () => {
    const london = zoneKey('Europe/London');
    const window = daily('09:00', '21:00');
    expect(openIntervals(window, london, utc(2026, 3, 28), utc(2026, 3, 30))).toEqual([
      { start: utc(2026, 3, 28, 9), end: utc(2026, 3, 28, 21) },
      { start: utc(2026, 3, 29, 8), end: utc(2026, 3, 29, 20) },
    ]);
    expect(openIntervals(window, london, utc(2026, 10, 24), utc(2026, 10, 26))).toEqual([
      { start: utc(2026, 10, 24, 8), end: utc(2026, 10, 24, 20) },
      { start: utc(2026, 10, 25, 9), end: utc(2026, 10, 25, 21) },
    ]);
  });

  it('a boundary inside the spring-forward gap takes effect when the clock jumps past it', () => {
    const ny = zoneKey('America/New_York');
    const jump = utc(2026, 3, 8, 7); // 02:00 EST becomes 03:00 EDT
    expect(DateTime.fromMillis(jump - 1, { zone: 'America/New_York' }).toFormat('HH:mm')).toBe('01:59');
    expect(DateTime.fromMillis(jump, { zone: 'America/New_York' }).toFormat('HH:mm')).toBe('03:00');
    const day = [utc(2026, 3, 8), utc(2026, 3, 9, 12)] as const;

    // "from 02:30" opens at the jump (not at 03:30 EDT, where luxon's fromObject would put it).
    expect(openIntervals(daily('02:30', '21:00', SUNDAY), ny, ...day)).toEqual([
      { start: jump, end: utc(2026, 3, 9, 1) },
    ]);
    // "to 02:30" closes at the jump: the clock never shows 02:30-03:30 that night.
    expect(openIntervals(daily('00:00', '02:30', SUNDAY), ny, ...day)).toEqual([
      { start: utc(2026, 3, 8, 5), end: jump },
    ]);
    // A window wholly inside the gap is closed that day, and open as usual a week later.
    const inGap = daily('02:00', '02:30', SUNDAY);
    expect(openIntervals(inGap, ny, ...day)).toEqual([]);
    expect(openIntervals(inGap, ny, utc(2026, 3, 15), utc(2026, 3, 16))).toEqual([
      { start: utc(2026, 3, 15, 6), end: utc(2026, 3, 15, 6, 30) },
    ]);
  });

  it('a boundary inside the repeated fall-back hour applies at both of its occurrences', () => {
    const ny = zoneKey('America/New_York');
    const day = [utc(2026, 11, 1), utc(2026, 11, 2, 12)] as const;
    // 01:30 EDT = 05:30Z; at 06:00Z the clock falls back from 02:00 EDT to 01:00 EST; 01:30 EST = 06:30Z.
    expect(openIntervals(daily('01:30', '21:00', SUNDAY), ny, ...day)).toEqual([
      { start: utc(2026, 11, 1, 5, 30), end: utc(2026, 11, 1, 6) },
      { start: utc(2026, 11, 1, 6, 30), end: utc(2026, 11, 2, 2) },
    ]);
    expect(openIntervals(daily('00:00', '01:30', SUNDAY), ny, ...day)).toEqual([
      { start: utc(2026, 11, 1, 4), end: utc(2026, 11, 1, 5, 30) },
      { start: utc(2026, 11, 1, 6), end: utc(2026, 11, 1, 6, 30) },
    ]);
  });

  it('the window does not depend on the host clock (luxon resolves ambiguous times by Settings.now)', () => {
    const window = daily('01:30', '01:45', SUNDAY);
    const key = zoneKey('America/New_York');
    const now = utc(2026, 10, 28);
    const original = Settings.now;
    try {
      Settings.now = () => utc(2026, 7, 1);
      const inSummer = computeWindow(window, key, now);
      Settings.now = () => utc(2026, 1, 1);
      expect(computeWindow(window, key, now)).toBe(inSummer);
    } finally {
      Settings.now = original;
    }
  });

  it('half- and quarter-hour offsets: Asia/Kolkata (+05:30) and Asia/Kathmandu (+05:45)', () => {
    const window = daily('09:00', '21:00');
    expect(openIntervals(window, zoneKey('Asia/Kolkata'), utc(2026, 1, 14), utc(2026, 1, 15))).toEqual([
      { start: utc(2026, 1, 14, 3, 30), end: utc(2026, 1, 14, 15, 30) },
    ]);
    expect(openIntervals(window, zoneKey('Asia/Kathmandu'), utc(2026, 1, 14), utc(2026, 1, 15))).toEqual([
      { start: utc(2026, 1, 14, 3, 15), end: utc(2026, 1, 14, 15, 15) },
    ]);
  });

  it('Pacific/Auckland, a local day ahead of UTC, opens on the UTC day before', () => {
    // From 07:00Z Tue 13 Jan = 20:00 Tue NZDT (+13): the end of Tuesday's window, then Wednesday's.
    expect(
      openIntervals(nineToNine, zoneKey('Pacific/Auckland'), utc(2026, 1, 13, 7), utc(2026, 1, 14, 12)),
    ).toEqual([
      { start: utc(2026, 1, 13, 7), end: utc(2026, 1, 13, 8) },
      { start: utc(2026, 1, 13, 20), end: utc(2026, 1, 14, 8) },
    ]);
  });

  it('Pacific/Kiritimati (+14): a Monday-only window opens on a UTC Sunday', () => {
    const mondays = daily('09:00', '21:00', [1]);
    // 12:00Z Sunday 11 Jan is already 02:00 Monday there.
    expect(
      openIntervals(mondays, zoneKey('Pacific/Kiritimati'), utc(2026, 1, 11, 12), utc(2026, 1, 12, 12)),
    ).toEqual([{ start: utc(2026, 1, 11, 19), end: utc(2026, 1, 12, 7) }]);
  });

  it('adjacent and overlapping rules merge, and 24:00 runs into the next day', () => {
    const key = zoneKey('UTC');
    const monday = [utc(2026, 1, 12), utc(2026, 1, 14)] as const;
    const split: CallingWindow = {
      rules: [
        { days: [1], from: '09:00', to: '12:00' },
        { days: [1], from: '12:00', to: '18:00' },
      ],
    };
    expect(openIntervals(split, key, ...monday)).toEqual([
      { start: utc(2026, 1, 12, 9), end: utc(2026, 1, 12, 18) },
    ]);
    const overlapping: CallingWindow = {
      rules: [
        { days: [1], from: '09:00', to: '13:00' },
        { days: [1, 2], from: '11:00', to: '15:00' },
      ],
    };
    expect(openIntervals(overlapping, key, ...monday)).toEqual([
      { start: utc(2026, 1, 12, 9), end: utc(2026, 1, 12, 15) },
      { start: utc(2026, 1, 13, 11), end: utc(2026, 1, 13, 15) },
    ]);
    const overnight: CallingWindow = {
      rules: [
        { days: [1], from: '18:00', to: '24:00' },
        { days: [2], from: '00:00', to: '06:00' },
      ],
    };
    expect(openIntervals(overnight, key, ...monday)).toEqual([
      { start: utc(2026, 1, 12, 18), end: utc(2026, 1, 13, 6) },
    ]);
  });

  it('ALWAYS_OPEN covers the whole horizon, from an hour before now', () => {
    const now = utc(2026, 3, 8, 6, 59); // a DST change inside does not split it
    expect(computeWindow(ALWAYS_OPEN, zoneKey('America/New_York'), now)).toBe(
      `${now + WINDOW_HORIZON_MS}|${now - HOUR_MS},${now + WINDOW_HORIZON_MS}`,
    );
  });
});

describe('several candidate zones', () => {
  it('New York + Los Angeles, 09:00-21:00 in July: open only 16:00Z-01:00Z, when both allow it', () => {
    const key = zoneKey(['America/New_York', 'America/Los_Angeles']);
    expect(openIntervals(daily('09:00', '21:00'), key, utc(2026, 7, 15, 12), utc(2026, 7, 16, 12))).toEqual([
      { start: utc(2026, 7, 15, 16), end: utc(2026, 7, 16, 1) },
    ]);
  });

  it('zones whose windows never overlap are never open', () => {
    const key = zoneKey(['Asia/Tokyo', 'America/New_York']);
    const window = daily('09:00', '12:00');
    const now = utc(2026, 5, 4, 10);
    expect(openIntervals(window, key, now, now + WINDOW_HORIZON_MS)).toEqual([]);
    expect(computeWindow(window, key, now)).toBe(String(now + WINDOW_HORIZON_MS));
  });
});

describe('unknown zone', () => {
  it('a lead with no known zone is never open and has no next opening', () => {
    const now = utc(2026, 5, 4, 10);
    expect(openIntervals(ALWAYS_OPEN, UNKNOWN_ZONE, now, now + DAY_MS)).toEqual([]);
    const encoded = computeWindow(ALWAYS_OPEN, zoneKey(null), now);
    expect(encoded).toBe('0');
    expect(isOpenAt(encoded, now)).toBe(false);
    expect(nextOpening(encoded, now)).toBeNull();
  });
});

describe('encoded windows', () => {
  it('encode and decode round-trip', () => {
    const intervals = [
      { start: 100, end: 200 },
      { start: 300, end: 400 },
    ];
    expect(encodeWindow(intervals, 1000)).toBe('1000|100,200|300,400');
    expect(decodeWindow('1000|100,200|300,400')).toEqual({ validUntil: 1000, intervals });
    expect(encodeWindow([], 7)).toBe('7');
    expect(decodeWindow('7')).toEqual({ validUntil: 7, intervals: [] });
  });

  it('open is start-inclusive and end-exclusive', () => {
    const encoded = '1000|100,200|300,400';
    const openAt = (t: number) => isOpenAt(encoded, t);
    expect([99, 100, 199, 200, 299, 300, 399, 400].map(openAt)).toEqual([
      false,
      true,
      true,
      false,
      false,
      true,
      true,
      false,
    ]);
  });

  it('never open at or after validUntil, even inside an interval', () => {
    const encoded = '350|100,400';
    expect(isOpenAt(encoded, 349)).toBe(true);
    expect(isOpenAt(encoded, 350)).toBe(false);
    expect(isOpenAt(encoded, 351)).toBe(false);
  });

  it('a malformed window is refused by decode and closed for isOpenAt', () => {
    for (const bad of [
      '',
      'abc',
      '10|',
      '10|5',
      '10|5,5',
      '10|9,5',
      '10|5,9|7,12',
      '1.5',
      '1e3|0,5',
      '10|x,9',
    ]) {
      expect(() => decodeWindow(bad)).toThrow(/malformed calling window/);
    }
    for (const bad of ['', 'abc', '10|', '10|5', '10|x,9', '1e3|0,5', '10|0,x', '-|0,5']) {
      expect(isOpenAt(bad, 6)).toBe(false);
    }
  });

  it('encoding refuses intervals that are empty, unsorted, overlapping or fractional', () => {
    const cases: Interval[][] = [
      [{ start: 5, end: 5 }],
      [
        { start: 10, end: 20 },
        { start: 1, end: 5 },
      ],
      [
        { start: 1, end: 10 },
        { start: 5, end: 20 },
      ],
      [{ start: 1.5, end: 2 }],
    ];
    for (const intervals of cases) expect(() => encodeWindow(intervals, 100)).toThrow(RangeError);
    expect(() => encodeWindow([], Number.NaN)).toThrow(RangeError);
  });

  it('nextOpening gives the start of the current or next interval, null past the last or validUntil', () => {
    const encoded = '1000|100,200|300,400';
    expect(nextOpening(encoded, 50)).toBe(100);
    expect(nextOpening(encoded, 150)).toBe(100);
    expect(nextOpening(encoded, 200)).toBe(300);
    expect(nextOpening(encoded, 400)).toBeNull();
    expect(nextOpening(encoded, 1000)).toBeNull();
    expect(nextOpening('350|100,200|360,400', 250)).toBeNull();
  });

  it('isOpenAt and nextOpening agree with a plain scan of the decoded intervals', () => {
    const intervalsArb = fc
      .uniqueArray(fc.integer({ min: 0, max: 10_000 }), { maxLength: 20 })
      .map((points) => points.sort((a, b) => a - b))
      .map((points) => {
        const out: Interval[] = [];
        for (let i = 0; i + 1 < points.length; i += 2) out.push({ start: points[i]!, end: points[i + 1]! });
        return out;
      });
    fc.assert(
      fc.property(
        intervalsArb,
        fc.integer({ min: 0, max: 12_000 }),
        fc.integer({ min: -100, max: 12_000 }),
        (intervals, validUntil, now) => {
          const encoded = encodeWindow(intervals, validUntil);
          expect(decodeWindow(encoded)).toEqual({ validUntil, intervals });
          const containing = intervals.find((i) => i.start <= now && now < i.end);
          expect(isOpenAt(encoded, now)).toBe(now < validUntil && containing !== undefined);
          const upcoming = intervals.find((i) => now < i.end);
          const expected =
            now < validUntil && upcoming !== undefined && upcoming.start < validUntil ? upcoming.start : null;
          expect(nextOpening(encoded, now)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The contract itself: isOpenAt(computeWindow(...), t) is exactly "the callee's wall clock at t,
// as luxon shows it, is inside some rule, in every candidate zone". Because the intervals follow
// the wall clock through gaps and overlaps (see the module header), the two agree at every
// instant, so unlike a boundary-by-boundary construction this needs no exclusion zone around DST
// changes; the second property aims instants at those changes on purpose.

const ZONES = [
  'America/New_York',
  'America/Los_Angeles',
  'America/St_Johns', // -03:30, with DST
  'America/Santiago', // southern DST, changing at local midnight: days that start in a gap
  'Europe/London',
  'Europe/Berlin',
  'Africa/Casablanca', // DST suspended for Ramadan
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Australia/Sydney', // southern hemisphere
  'Australia/Lord_Howe', // 30-minute DST shift
  'Pacific/Auckland',
  'Pacific/Chatham', // +12:45 with DST
  'Pacific/Kiritimati', // +14
  'UTC',
];

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** Rules at any minute; `early` biases boundaries into 00:00-04:00, where DST changes happen. */
function ruleArb(early: boolean) {
  const minute = early
    ? fc.oneof(fc.integer({ min: 0, max: 240 }), fc.integer({ min: 0, max: 1440 }))
    : fc.integer({ min: 0, max: 1440 });
  return fc
    .record({
      days: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
      a: minute,
      b: minute,
    })
    .filter(({ a, b }) => a !== b)
    .map(({ days, a, b }) => ({ days, from: hhmm(Math.min(a, b)), to: hhmm(Math.max(a, b)) }));
}

function windowArb(early: boolean) {
  return fc.array(ruleArb(early), { minLength: 1, maxLength: 4 }).map((rules): CallingWindow => ({ rules }));
}

const zonesArb = fc.uniqueArray(fc.constantFrom(...ZONES), { minLength: 1, maxLength: 3 });

function allowedByWallClock(window: CallingWindow, zones: readonly string[], t: number): boolean {
  return zones.every((zone) => {
    const local = DateTime.fromMillis(t, { zone });
    const clock = local.toFormat('HH:mm');
    return window.rules.some((r) => r.days.includes(local.weekday) && r.from <= clock && clock < r.to);
  });
}

/** Every offset change of the zone in 2026, to the hour (found with luxon, independently of the module). */
function transitions2026(zone: string): number[] {
  const found: number[] = [];
  let previous = DateTime.fromMillis(utc(2026, 1, 1), { zone }).offset;
  for (let t = utc(2026, 1, 1) + HOUR_MS; t < utc(2027, 1, 1); t += HOUR_MS) {
    const offset = DateTime.fromMillis(t, { zone }).offset;
    if (offset !== previous) found.push(t);
    previous = offset;
  }
  return found;
}

describe('the encoded window agrees with the callee’s wall clock', () => {
  it('at random instants within the horizon, for random zones and rules', () => {
    fc.assert(
      fc.property(
        windowArb(false),
        zonesArb,
        fc.integer({ min: utc(2025, 1, 1), max: utc(2028, 1, 1) }),
        fc.integer({ min: -HOUR_MS, max: WINDOW_HORIZON_MS - 1 }),
        (window, zones, now, ahead) => {
          const t = now + ahead;
          expect(isOpenAt(computeWindow(window, zoneKey(zones), now), t)).toBe(
            allowedByWallClock(window, zones, t),
          );
        },
      ),
      { numRuns: 400 },
    );
  });

  const changes = ZONES.flatMap(transitions2026);
  it('at instants within three hours of a DST change, with boundaries where the changes happen', () => {
    expect(changes.length).toBeGreaterThan(15);
    fc.assert(
      fc.property(
        windowArb(true),
        zonesArb,
        fc.constantFrom(...changes),
        fc.integer({ min: -3 * HOUR_MS, max: 3 * HOUR_MS }),
        fc.integer({ min: -HOUR_MS, max: WINDOW_HORIZON_MS - 1 }),
        (window, zones, change, near, ahead) => {
          const t = change + near;
          const now = t - ahead;
          expect(isOpenAt(computeWindow(window, zoneKey(zones), now), t)).toBe(
            allowedByWallClock(window, zones, t),
          );
        },
      ),
      { numRuns: 600 },
    );
  });
});
