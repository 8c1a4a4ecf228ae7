// Calling-hours presets: the lawful hours (and call-count limits, where the same law sets one) of
// a country or a US state, as data. A campaign picks one for every lead (`callingRules.preset`),
// or a rule pack applies one to a region (`preset` in a pack, e.g. 'fr' for Europe/Paris). All
// hours are the callee's local time. Each entry names the text it encodes; laws change, so check
// the current text before relying on one (a stricter pack can always be added on top).
//
// Adding a preset is adding an entry here: the engine reads them like any rule pack.
import type { CallingWindow } from './calling-window.js';

export interface CallCap {
  /** At most this many calls to one number ... */
  readonly count: number;
  /** ... within any period of this length (ms). */
  readonly periodMs: number;
}

export interface CallingPreset {
  readonly title: string;
  readonly hours: CallingWindow;
  readonly maxCalls: readonly CallCap[];
  /** The rule encoded, with where it is written. */
  readonly source: string;
}

const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const CALLING_PRESETS = {
  'us-tcpa': {
    title: 'United States, telemarketing: 08:00-21:00 every day',
    hours: { rules: [{ days: EVERY_DAY, from: '08:00', to: '21:00' }] },
    maxCalls: [],
    source:
      '47 CFR 64.1200(c)(1) (FCC, TCPA rules) and 16 CFR 310.4(c) (FTC Telemarketing Sales Rule): no ' +
      'telephone solicitation before 8 a.m. or after 9 p.m. local time at the called party',
  },
  'us-fl': {
    title: 'Florida: 08:00-20:00 every day, at most 3 calls in 24 h',
    hours: { rules: [{ days: EVERY_DAY, from: '08:00', to: '20:00' }] },
    maxCalls: [{ count: 3, periodMs: DAY_MS }],
    source:
      'Fla. Stat. 501.616(6) as amended in 2021 (SB 1120, Florida Telephone Solicitation Act): no ' +
      "commercial telephone solicitation before 8 a.m. or after 8 p.m. at the called person's " +
      'location, and no more than three such calls to a person in 24 hours on the same subject',
  },
  'us-ok': {
    title: 'Oklahoma: 08:00-20:00 every day, at most 3 calls in 24 h',
    hours: { rules: [{ days: EVERY_DAY, from: '08:00', to: '20:00' }] },
    maxCalls: [{ count: 3, periodMs: DAY_MS }],
    source:
      'Okla. Stat. tit. 15, 775C.4 (Telephone Solicitation Act of 2022): no commercial telephonic ' +
      'sales call before 8 a.m. or after 8 p.m. local time, no more than three in 24 hours on the same subject',
  },
  'us-tx': {
    title: 'Texas: Mon-Sat 09:00-21:00, Sun 12:00-21:00',
    hours: {
      rules: [
        { days: [1, 2, 3, 4, 5, 6], from: '09:00', to: '21:00' },
        { days: [7], from: '12:00', to: '21:00' },
      ],
    },
    maxCalls: [],
    source:
      'Tex. Bus. & Com. Code 301.051: no telephone solicitation before 9 a.m. or after 9 p.m. on a ' +
      "weekday or Saturday, or before noon or after 9 p.m. on a Sunday, at the purchaser's location",
  },
  'us-wa': {
    title: 'Washington: 08:00-20:00 every day',
    hours: { rules: [{ days: EVERY_DAY, from: '08:00', to: '20:00' }] },
    maxCalls: [],
    source:
      "RCW 80.36.390(2): no commercial telephone solicitation before 8 a.m. or after 8 p.m. at the called party's location",
  },
  fr: {
    title: 'France: Mon-Fri 10:00-13:00 and 14:00-20:00, at most 4 calls in 30 days',
    hours: {
      rules: [
        { days: [1, 2, 3, 4, 5], from: '10:00', to: '13:00' },
        { days: [1, 2, 3, 4, 5], from: '14:00', to: '20:00' },
      ],
    },
    maxCalls: [{ count: 4, periodMs: 30 * DAY_MS }],
    source:
      'Decret n. 2022-1313 of 13 October 2022 (Code de la consommation, art. L223-1): unsolicited ' +
      'prospecting calls only on weekdays 10:00-13:00 and 14:00-20:00, never on Saturdays, Sundays or ' +
      'public holidays (add them as a holiday pack), at most four calls in 30 days to one person',
  },
} as const satisfies Record<string, CallingPreset>;

export type PresetId = keyof typeof CALLING_PRESETS;

export const PRESET_IDS = Object.keys(CALLING_PRESETS) as [PresetId, ...PresetId[]];

export function presetOf(id: PresetId): CallingPreset {
  return CALLING_PRESETS[id];
}
