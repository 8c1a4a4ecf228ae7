// Loads the Lua scripts under ./lua (one operation per file), resolves their
// `--- @include "name"` lines from ./lua/includes (each include once, nested includes first) and
// registers them with node-redis, which calls them by SHA and falls back to EVAL when the server
// answers NOSCRIPT (after a restart or SCRIPT FLUSH). Every script takes the campaign key set
// (includes/campaign-keys.lua) as its KEYS, so file names carry no key count.
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineScript } from '@redis/client';
import type { CommandParser } from '@redis/client';
import { CAMPAIGN_KEY_SET } from '../keys.js';

const LUA_DIR = fileURLToPath(new URL('./lua/', import.meta.url));
const INCLUDE = /^--- @include "([a-z-]+)"\s*$/gm;

export const SCRIPT_NAMES = [
  'adoptLeases',
  'applyLeases',
  'attachLeases',
  'claimLeases',
  'defineCampaign',
  'dropCampaign',
  'dispatch',
  'enqueue',
  'eraseNumbers',
  'expiredLeases',
  'leaseNext',
  'peekLease',
  'promoteDue',
  'queueStats',
  'rebuildReset',
  'reclaimLeases',
  'rejectLease',
  'removeNumbers',
  'renewLeases',
  'setAgentNotReady',
  'setAgentsReady',
  'setWindows',
  'unsuppressNumbers',
  'updateLead',
  'restoreHistory',
  'trimHistory',
] as const;

export type ScriptName = (typeof SCRIPT_NAMES)[number];

/** Every script takes the campaign key set. */
export const SCRIPT_KEY_COUNT = CAMPAIGN_KEY_SET.length;

export interface ScriptSource {
  readonly name: ScriptName;
  readonly file: string;
  /** The script with its includes expanded. */
  readonly source: string;
}

function expand(source: string, seen: Set<string>): string {
  return source.replace(INCLUDE, (_line, include: string) => {
    if (seen.has(include)) return '';
    seen.add(include);
    const body = readFileSync(`${LUA_DIR}includes/${include}.lua`, 'utf8');
    return expand(body, seen);
  });
}

export function loadScriptSources(): ScriptSource[] {
  const files = new Set(readdirSync(LUA_DIR).filter((f) => f.endsWith('.lua')));
  return SCRIPT_NAMES.map((name) => {
    const file = `${name}.lua`;
    if (!files.has(file)) throw new Error(`missing Lua script ${file} in ${LUA_DIR}`);
    const raw = readFileSync(`${LUA_DIR}${file}`, 'utf8');
    return { name, file, source: expand(raw, new Set()) };
  });
}

export type ScriptArg = string | number;

function argString(a: ScriptArg): string {
  return typeof a === 'number' ? (Number.isInteger(a) ? a.toFixed(0) : String(a)) : a;
}

function register(s: ScriptSource) {
  return defineScript({
    SCRIPT: s.source,
    NUMBER_OF_KEYS: SCRIPT_KEY_COUNT,
    parseCommand(parser: CommandParser, keys: readonly string[], args: readonly ScriptArg[]) {
      if (keys.length !== SCRIPT_KEY_COUNT) {
        throw new Error(
          `${s.name} takes the campaign key set (${SCRIPT_KEY_COUNT} keys), got ${keys.length}`,
        );
      }
      for (const k of keys) parser.pushKey(k);
      for (const a of args) parser.push(argString(a));
    },
    transformReply: (reply: unknown) => reply,
  });
}

export type RegisteredScript = ReturnType<typeof register>;

export function buildScripts(): Record<ScriptName, RegisteredScript> {
  return Object.fromEntries(loadScriptSources().map((s) => [s.name, register(s)])) as Record<
    ScriptName,
    RegisteredScript
  >;
}
