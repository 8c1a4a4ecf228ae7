// The scenarios are the files in bench/scenarios/: every `<name>.ts` there (not its folders) is
// loaded and whatever it exports that implements Scenario joins the suite. Adding a scenario is
// adding a file; nothing else lists them. `all` runs them in SUITE_ORDER, cheapest first, then
// any others by name.
import { readdir } from 'node:fs/promises';
import { isScenario } from './scenario.js';
import type { Scenario } from './scenario.js';

const SCENARIO_DIR = new URL('../scenarios/', import.meta.url);

/** Known scenarios first in this order (what `all` runs), then any others alphabetically. */
export const SUITE_ORDER: readonly string[] = [
  'engine',
  'persist',
  'connections',
  'loop',
  'floor',
  'scale',
  'recovery',
  'import',
  'wallboard',
];

const rank = (name: string) => {
  const i = SUITE_ORDER.indexOf(name);
  return i === -1 ? SUITE_ORDER.length : i;
};

export async function loadScenarios(dir: URL = SCENARIO_DIR): Promise<Scenario[]> {
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => e.name)
    .sort();
  const found = new Map<string, Scenario>();
  for (const file of files) {
    const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) {
      if (!isScenario(value)) continue;
      if (found.has(value.name)) throw new Error(`two scenarios are named ${value.name} (${file})`);
      found.set(value.name, value);
    }
  }
  return [...found.values()].sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}
