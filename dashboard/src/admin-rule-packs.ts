// The rule-packs page (a part of /admin): the tenant's library of calling-rule packs
// (/api/v1/tenants/:t/rule-packs), which campaigns use by id. Supervisors read it; owners and
// admins create, edit and delete packs with a form (region zones, a preset, hours per day of the
// week, call caps, minimum gap, lockout after an outcome, holidays), never raw JSON. The form is
// checked with the API's own pack schema before it is sent; what the server refuses (a pack in
// use by campaigns, RULE_PACK_IN_USE, names them) comes back with its code.
import type { z } from 'zod';
import { PRESET_IDS, rulePackSchema } from '../../gateway/supervisor/admin-schemas.js';
import { el, field } from './dom.js';

type Pack = z.output<typeof rulePackSchema>;

interface StoredPack {
  readonly id: string;
  readonly pack: Pack;
  readonly updatedAt: number;
}

/** What the admin page lends this one (no import back into admin.ts: no cycle). */
export interface RulePackDeps {
  /** Calls /api/v1/tenants/:t + path; raises the server's code and message. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  say(text: string, kind?: 'ok' | 'error'): void;
  attempt(work: () => Promise<void>): void;
  /** Owners and admins write. */
  canWrite(): boolean;
  /** Draw the page again (after an action). */
  refresh(): Promise<void>;
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
const CAP_ROWS = 2;

const list = (v: string): string[] =>
  v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');

const num = (v: string): number => (v.trim() === '' ? NaN : Number(v));

/** "n in 24 h", "4 in 30 days": a period as people say it. */
function period(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} day${ms === DAY ? '' : 's'}`;
  if (ms % HOUR === 0) return `${ms / HOUR} h`;
  return `${Math.round(ms / MINUTE)} min`;
}

/** One line per rule the pack sets, for the list. */
function summary(p: Pack): string {
  const parts: string[] = [];
  if (p.preset) parts.push(`preset ${p.preset}`);
  if (p.hours) {
    // Days with the same hours together: "Mon Tue Wed Thu Fri 09:00-20:00".
    const byHours = new Map<string, number[]>();
    for (const r of p.hours.rules) {
      const k = `${r.from}-${r.to}`;
      byHours.set(k, [...(byHours.get(k) ?? []), ...r.days]);
    }
    const dayNames = (days: number[]) =>
      [...new Set(days)]
        .sort((a, b) => a - b)
        .map((d) => DAYS[d - 1])
        .join(' ');
    const text = [...byHours].map(([h, days]) => `${dayNames(days)} ${h}`).join('; ');
    parts.push(text || 'closed every day');
  }
  for (const c of p.maxCalls) parts.push(`at most ${c.count} in ${period(c.periodMs)}`);
  if (p.minGapMs > 0) parts.push(`gap ${period(p.minGapMs)}`);
  if (p.lockout) parts.push(`lockout ${period(p.lockout.durationMs)} after ${p.lockout.outcomes.join(', ')}`);
  if (p.holidays.length > 0) parts.push(`${p.holidays.length} holiday${p.holidays.length === 1 ? '' : 's'}`);
  return parts.join(' · ') || 'no rule';
}

/** The pack the form describes (checked with the API's schema; throws naming the fields at fault). */
function packOf(d: FormData): Pack {
  const hours = field(d, 'limitHours') === 'on';
  const rules: { days: number[]; from: string; to: string }[] = [];
  if (hours) {
    DAYS.forEach((_, i) => {
      const from = field(d, `from${i + 1}`);
      const to = field(d, `to${i + 1}`);
      if (from === '' && to === '') return; // closed that day
      rules.push({ days: [i + 1], from, to: to === '00:00' ? '24:00' : to });
    });
  }
  const maxCalls = Array.from({ length: CAP_ROWS }, (_, i) => ({
    count: num(field(d, `capCount${i}`)),
    hours: num(field(d, `capHours${i}`)),
  }))
    .filter((c) => !Number.isNaN(c.count) || !Number.isNaN(c.hours))
    .map((c) => ({ count: c.count, periodMs: Math.round(c.hours * HOUR) }));
  const gapHours = num(field(d, 'gapHours'));
  const lockoutOutcomes = list(field(d, 'lockoutOutcomes'));
  const lockoutDays = num(field(d, 'lockoutDays'));
  const zones = list(field(d, 'zones'));
  const preset = field(d, 'preset');
  const candidate = {
    name: field(d, 'name'),
    ...(zones.length > 0 ? { zones } : {}),
    ...(preset !== '' ? { preset } : {}),
    ...(hours ? { hours: { rules } } : {}),
    holidays: list(field(d, 'holidays')),
    maxCalls,
    minGapMs: Number.isNaN(gapHours) ? 0 : Math.round(gapHours * HOUR),
    ...(lockoutOutcomes.length > 0 || !Number.isNaN(lockoutDays)
      ? { lockout: { outcomes: lockoutOutcomes, durationMs: Math.round(lockoutDays * DAY) } }
      : {}),
  };
  const parsed = rulePackSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'pack'}: ${i.message}`).join('; '));
}

/** The form, empty (new pack) or filled from a stored one (edit). */
function packForm(editing: StoredPack | null): HTMLFormElement {
  const p = editing?.pack;
  const input = (name: string, attrs: Record<string, string> = {}, value = '') =>
    el('input', { name, ...attrs, ...(value === '' ? {} : { value }) });
  const dayHours = (d: number) => p?.hours?.rules.find((r) => r.days.includes(d));
  const hourRows = DAYS.map((label, i) => {
    const r = dayHours(i + 1);
    return el(
      'tr',
      {},
      el('th', { scope: 'row' }, label),
      el('td', {}, input(`from${i + 1}`, { type: 'time', 'aria-label': `${label} from` }, r?.from ?? '')),
      el(
        'td',
        {},
        input(
          `to${i + 1}`,
          { type: 'time', 'aria-label': `${label} to` },
          r?.to === '24:00' ? '00:00' : (r?.to ?? ''),
        ),
      ),
    );
  });
  const capRows = Array.from({ length: CAP_ROWS }, (_, i) => {
    const c = p?.maxCalls[i];
    return el(
      'p',
      { class: 'cap' },
      'At most ',
      input(
        `capCount${i}`,
        { type: 'number', min: '1', max: '1000', 'aria-label': `cap ${i + 1} calls` },
        c ? `${c.count}` : '',
      ),
      ' calls to one number in ',
      input(
        `capHours${i}`,
        { type: 'number', min: '0.0167', step: 'any', 'aria-label': `cap ${i + 1} hours` },
        c ? `${c.periodMs / HOUR}` : '',
      ),
      ' hours',
    );
  });
  const limitHours = el('input', {
    type: 'checkbox',
    name: 'limitHours',
    ...(p?.hours ? { checked: '' } : {}),
  });
  const form = el(
    'form',
    { class: 'admin-form', id: 'rule-pack-form', 'data-editing': editing?.id ?? '' },
    el('h3', {}, editing ? `Edit rule pack ${editing.pack.name}` : 'New rule pack'),
    el('label', {}, 'Name ', input('name', { required: '', maxlength: '64' }, p?.name ?? '')),
    el(
      'label',
      { class: 'wide' },
      'Region: IANA zones (blank: every lead) ',
      input('zones', { placeholder: 'Europe/Paris America/New_York' }, (p?.zones ?? []).join(' ')),
    ),
    el(
      'label',
      {},
      'Preset ',
      el(
        'select',
        { name: 'preset' },
        el('option', { value: '' }, 'none'),
        ...PRESET_IDS.map((id) =>
          el('option', { value: id, ...(p?.preset === id ? { selected: '' } : {}) }, id),
        ),
      ),
    ),
    el(
      'fieldset',
      {},
      el('legend', {}, 'Hours (callee-local)'),
      el('label', {}, limitHours, ' Limit the hours (a day left blank is closed; 00:00 as "to" is midnight)'),
      el(
        'table',
        { class: 'hours' },
        el('thead', {}, el('tr', {}, el('th', {}, 'day'), el('th', {}, 'from'), el('th', {}, 'to'))),
        el('tbody', {}, ...hourRows),
      ),
    ),
    el('fieldset', {}, el('legend', {}, 'Call caps'), ...capRows),
    el(
      'label',
      {},
      'Minimum gap between two calls to a number (hours) ',
      input(
        'gapHours',
        { type: 'number', min: '0', step: 'any' },
        p && p.minGapMs > 0 ? `${p.minGapMs / HOUR}` : '',
      ),
    ),
    el(
      'fieldset',
      {},
      el('legend', {}, 'Lockout'),
      el(
        'label',
        {},
        'After the outcomes ',
        input('lockoutOutcomes', { placeholder: 'abandoned' }, (p?.lockout?.outcomes ?? []).join(' ')),
      ),
      el(
        'label',
        {},
        ' do not call the number for (days) ',
        input(
          'lockoutDays',
          { type: 'number', min: '0.0007', step: 'any' },
          p?.lockout ? `${p.lockout.durationMs / DAY}` : '',
        ),
      ),
    ),
    el(
      'label',
      { class: 'wide' },
      'Holidays (YYYY-MM-DD, one per line) ',
      el('textarea', { name: 'holidays', rows: '3' }, (p?.holidays ?? []).join('\n')),
    ),
    el('button', { type: 'submit' }, editing ? 'Save changes' : 'Create'),
  ) as HTMLFormElement;
  return form;
}

export async function rulePacksPanel(deps: RulePackDeps): Promise<HTMLElement> {
  const items: StoredPack[] = [];
  let after: string | null = null;
  do {
    const page: { items: StoredPack[]; next: string | null } = await deps.api(
      'GET',
      `/rule-packs?limit=200${after ? `&after=${after}` : ''}`,
    );
    items.push(...page.items);
    after = page.next;
  } while (after !== null);

  const panel = el('div', { class: 'rule-packs-panel' });
  let form: HTMLFormElement | null = null;

  const mountForm = (editing: StoredPack | null) => {
    const next = packForm(editing);
    next.addEventListener('submit', (e) => {
      e.preventDefault();
      deps.attempt(async () => {
        const pack = packOf(new FormData(next));
        if (editing) {
          // The whole pack: a rule taken out of the form is removed (null), not kept.
          const body = {
            ...pack,
            zones: pack.zones ?? null,
            preset: pack.preset ?? null,
            hours: pack.hours ?? null,
            lockout: pack.lockout ?? null,
          };
          const r: { campaigns: string[] } = await deps.api('PATCH', `/rule-packs/${editing.id}`, body);
          await deps.refresh();
          deps.say(
            `Rule pack ${pack.name} saved${r.campaigns.length > 0 ? `; campaigns using it now run it: ${r.campaigns.join(', ')}` : ''}.`,
          );
        } else {
          await deps.api('POST', '/rule-packs', pack);
          await deps.refresh();
          deps.say(`Rule pack ${pack.name} created.`);
        }
      });
    });
    if (form) form.replaceWith(next);
    else panel.append(next);
    form = next;
  };

  const rows = items.map((s) =>
    el(
      'tr',
      { 'data-pack': s.id },
      el('td', {}, s.id),
      el('td', {}, s.pack.name),
      el('td', {}, s.pack.zones?.join(', ') ?? 'every lead'),
      el('td', {}, summary(s.pack)),
      el(
        'td',
        {},
        ...(deps.canWrite()
          ? [
              button('Edit', () => mountForm(s), { 'data-edit': s.id }),
              ' ',
              button(
                'Delete',
                () =>
                  deps.attempt(async () => {
                    await deps.api('DELETE', `/rule-packs/${s.id}`);
                    await deps.refresh();
                    deps.say(`Rule pack ${s.pack.name} deleted.`);
                  }),
                { 'data-delete': s.id },
              ),
            ]
          : []),
      ),
    ),
  );
  panel.append(
    el(
      'p',
      { class: 'hint' },
      'Packs of calling rules campaigns use by id (rulePackIds): a change here reaches every campaign using it at once.',
    ),
    items.length === 0
      ? el('p', { class: 'empty' }, 'No rule pack yet.')
      : el(
          'table',
          { id: 'rule-packs-table' },
          el(
            'thead',
            {},
            el('tr', {}, ...['#', 'name', 'region', 'rules', ''].map((h) => el('th', { scope: 'col' }, h))),
          ),
          el('tbody', {}, ...rows),
        ),
  );
  if (deps.canWrite()) mountForm(null);
  return panel;
}

function button(text: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement {
  const b = el('button', { type: 'button', ...attrs }, text);
  b.addEventListener('click', onClick);
  return b;
}
