// The Lua scripts are files with a contract in their header: the key count in the file name,
// the KEYS the header documents and the count they are registered with must agree, and the
// status numbers they return must be the ones engine/errors.ts maps.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { SCRIPT_STATUS, STATUS_DUPLICATE, STATUS_OK } from '../../engine/errors.js';
import { CAMPAIGN_KEY_SET, TOMBSTONE_BAND, campaignKeys } from '../../engine/keys.js';
import { asCampaignId, asTenantId } from '../../engine/ids.js';
import {
  buildScripts,
  loadScriptSources,
  SCRIPT_KEY_COUNT,
  SCRIPT_NAMES,
} from '../../engine/redis/scripts.js';
import { REDIS_URL } from '../support/stores.js';

const LUA_DIR = fileURLToPath(new URL('../../engine/redis/lua/', import.meta.url));
const KEY_SET_LUA = readFileSync(`${LUA_DIR}includes/campaign-keys.lua`, 'utf8');

/** Whether a script's header documents the campaign key set as its KEYS. */
function documentsKeySet(source: string): boolean {
  const header = /^--\[\[([\s\S]*?)\]\]/.exec(source)?.[1] ?? '';
  return /KEYS\[1\.\.14\]: the campaign key set/.test(header);
}

describe('Lua scripts', () => {
  const files = readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua'));

  it('has one file per registered script, named for its operation', () => {
    expect(files.map((f) => f.replace(/\.lua$/, '')).sort()).toEqual([...SCRIPT_NAMES].sort());
    for (const f of files) expect(f).toMatch(/^[a-z][A-Za-z]+\.lua$/);
  });

  it('takes the campaign key set, documented in its header, and is registered with that key count', () => {
    const scripts = buildScripts();
    expect(SCRIPT_KEY_COUNT).toBe(CAMPAIGN_KEY_SET.length);
    for (const s of loadScriptSources()) {
      const raw = readFileSync(`${LUA_DIR}${s.file}`, 'utf8');
      expect(documentsKeySet(raw), `${s.file} documents KEYS[1..14]`).toBe(true);
      expect(scripts[s.name].NUMBER_OF_KEYS, s.file).toBe(SCRIPT_KEY_COUNT);
      expect(raw, `${s.file} documents its ARGV`).toMatch(/ARGV\[1\]/);
    }
    expect(KEY_SET_LUA.match(/^\s+KEYS\[\d+\]/gm)).toHaveLength(14);
  });

  it('binds the campaign key set in the order the store passes it', () => {
    const names = [...KEY_SET_LUA.matchAll(/^\s+(\w+) = KEYS\[(\d+)\],$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(names.map(([, i]) => i)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    expect(names.map(([name]) => name)).toEqual([...CAMPAIGN_KEY_SET]);
  });

  it('uses the status numbers engine/errors.ts maps', () => {
    const lua = readFileSync(`${LUA_DIR}includes/status.lua`, 'utf8');
    const declared = Object.fromEntries(
      [...lua.matchAll(/^local ST_(\w+) = (-?\d+)$/gm)].map((m): [string, number] => [m[1]!, Number(m[2])]),
    );
    expect(declared).toEqual({ ...SCRIPT_STATUS, OK: STATUS_OK, DUPLICATE: STATUS_DUPLICATE });
  });

  it('resolves every include and compiles on the server', async () => {
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      for (const s of loadScriptSources()) {
        expect(s.source, s.file).not.toMatch(/@include/);
        const sha = await client.scriptLoad(s.source);
        expect(sha).toMatch(/^[0-9a-f]{40}$/);
      }
    } finally {
      await client.close();
    }
  });

  it('builds per-bucket keys from the same suffixes as engine/keys.ts', () => {
    const lua = readFileSync(`${LUA_DIR}includes/keys.lua`, 'utf8');
    const k = campaignKeys('p:', { tenantId: asTenantId('t'), campaignId: asCampaignId('c') });
    expect(lua).toContain(`base .. 'r:' .. zone`);
    expect(k.ready(3)).toBe(`${k.base}r:3`);
    expect(lua).toContain(`base .. 'p:' .. agent`);
    expect(k.pinned('a1')).toBe(`${k.base}p:a1`);
    expect(lua).toContain(`base .. 'd:' .. string.format('%d', bucket)`);
    expect(k.records(7)).toBe(`${k.base}d:7`);
    expect(lua).toContain(`base .. 'n:' .. string.sub(digits, -4)`);
    expect(k.phones('0123')).toBe(`${k.base}n:0123`);
    expect(lua).toContain(`base .. 'h:' .. string.format('%d', bucket)`);
    expect(k.phoneBucket(12)).toBe(`${k.base}h:12`);
  });

  it('puts tombstones in the same score band as engine/keys.ts', () => {
    const lua = readFileSync(`${LUA_DIR}includes/lease.lua`, 'utf8');
    expect(lua).toContain(`local TOMBSTONE_BAND = ${TOMBSTONE_BAND} -- 2^50`);
    expect(lua).toContain(`local LIVE_BELOW = '(${TOMBSTONE_BAND}'`);
    // Every expiry (ms, up to 2^44) is below the band, and band + purge time is exact in a double.
    expect(TOMBSTONE_BAND + 2 ** 44 + 1).toBeLessThan(Number.MAX_SAFE_INTEGER);
    expect(2 ** 44).toBeLessThan(TOMBSTONE_BAND);
  });
});
