// The admin pages (served at /admin): campaigns (create, pause and resume, assigned agents, queue
// figures), leads and the do-not-call list, users, devices (register, rename, revoke), API keys and
// wallboard TV links (shown once), wallboard settings, the audit log. Everything goes through the
// admin REST API (/api/v1) with the logged-in person's access token; the role decides what is
// shown (agents: nothing; supervisors: what they may read). Forms check what they can with the
// zod schemas the API itself validates with (calling window, dispositions, wallboard settings, TV
// links); whatever the server refuses comes back with its code and the fields at fault.
import './style.css';
import type { z } from 'zod';
import {
  callingWindowSchema,
  dispositionsSchema,
  wallboardLinkBodySchema,
  wallboardSettingsSchema,
} from '../../gateway/supervisor/admin-schemas.js';
import { importPanel } from './admin-import.js';
import { rightsPanel } from './admin-rights.js';
import { rulePacksPanel } from './admin-rule-packs.js';
import { $, el, field, LABELS, STATE_ORDER_LIST } from './dom.js';
import { LoginError, session } from './session.js';

type Json = Record<string, unknown>;

/** A JSON value as text in a cell ('' for null or a nested value). */
const txt = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? `${v}` : '';
interface Page {
  readonly items: Json[];
}

class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const role = (): string => session.current()?.user.role ?? '';
const isAdmin = (): boolean => role() === 'owner' || role() === 'admin';
const tenant = (): string => encodeURIComponent(session.current()?.user.tenantId ?? '');

async function api<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
  const token = await session.accessToken();
  if (!token) {
    showLogin('Your session has ended; log in again.');
    throw new ApiError('UNAUTHENTICATED', 'logged out');
  }
  const res = await fetch(`/api/v1/tenants/${tenant()}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 204) return {} as T;
  const json = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string; issues?: { path: string; message: string }[] };
  };
  if (!res.ok) {
    const e = json.error;
    const issues = e?.issues?.map((i) => `${i.path || 'body'}: ${i.message}`).join('; ');
    throw new ApiError(
      e?.code ?? `HTTP_${res.status}`,
      `${e?.message ?? res.statusText}${issues ? ` (${issues})` : ''}`,
    );
  }
  return json as T;
}

// ---- feedback ----

function say(text: string, kind: 'ok' | 'error' = 'ok'): void {
  const s = $('#status');
  s.className = `status ${kind}`;
  s.textContent = text;
}

/** Run an action, report its failure (with the server's code) without losing the form. */
function attempt(work: () => Promise<void>): void {
  work().catch((err: unknown) => {
    if (err instanceof ApiError) say(`${err.code}: ${err.message}`, 'error');
    else if (err instanceof Error) say(err.message, 'error');
  });
}

/** zod's issues as one line, for a form checked before it is sent. */
function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '));
}

/** A secret shown once: selectable, with the warning that it is not shown again. */
function once(label: string, secret: string): HTMLElement {
  const out = el('output', { class: 'secret' }, secret);
  return el(
    'div',
    { class: 'once', role: 'alert' },
    el('strong', {}, `${label} — shown once, copy it now: `),
    out,
  );
}

// ---- building blocks ----

function table(headers: readonly string[], rows: readonly (readonly (Node | string)[])[]): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'empty' }, 'Nothing yet.');
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))),
  );
}

function button(text: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLElement {
  const b = el('button', { type: 'button', ...attrs }, text);
  b.addEventListener('click', onClick);
  return b;
}

function form(
  title: string,
  fields: readonly HTMLElement[],
  submit: string,
  onSubmit: (data: FormData, f: HTMLFormElement) => Promise<void>,
): HTMLElement {
  const f = el(
    'form',
    { class: 'admin-form' },
    el('h3', {}, title),
    ...fields,
    el('button', { type: 'submit' }, submit),
  ) as HTMLFormElement;
  f.addEventListener('submit', (e) => {
    e.preventDefault();
    attempt(() => onSubmit(new FormData(f), f));
  });
  return f;
}

const input = (label: string, name: string, attrs: Record<string, string> = {}): HTMLElement =>
  el('label', {}, `${label} `, el('input', { name, ...attrs }));

function select(label: string, name: string, options: readonly [string, string][]): HTMLElement {
  return el(
    'label',
    {},
    `${label} `,
    el('select', { name }, ...options.map(([v, t]) => el('option', { value: v }, t))),
  );
}

const when = (iso: unknown): string => (typeof iso === 'string' ? new Date(iso).toLocaleString() : '—');

// ---- sections ----

interface Section {
  readonly id: string;
  readonly title: string;
  readonly adminOnly: boolean;
  render(into: HTMLElement): Promise<void>;
}

async function campaignIds(): Promise<string[]> {
  const page = await api<Page>('GET', '/campaigns?limit=500');
  return page.items.map((c) => txt(c.id));
}

const DAYS: readonly [number, string][] = [
  [1, 'Mon'],
  [2, 'Tue'],
  [3, 'Wed'],
  [4, 'Thu'],
  [5, 'Fri'],
  [6, 'Sat'],
  [7, 'Sun'],
];

const campaigns: Section = {
  id: 'campaigns',
  title: 'Campaigns',
  adminOnly: false,
  async render(into) {
    const page = await api<Page>('GET', '/campaigns?limit=500');
    const rows = await Promise.all(
      page.items.map(async (c) => {
        const id = txt(c.id);
        const stats = await api<{ queue: Json | null; leads: Json }>('GET', `/campaigns/${id}/stats`).catch(
          () => null,
        );
        const queue = stats?.queue
          ? `${txt(stats.queue.ready)} ready · ${txt(stats.queue.scheduled)} scheduled · ${txt(stats.queue.leased)} leased`
          : 'no live queue';
        const assigned = await api<{ agentIds: string[] }>('GET', `/campaigns/${id}/agents`).catch(
          () => null,
        );
        const actions = el('span', { class: 'actions' });
        if (isAdmin()) {
          const next = c.status === 'active' ? 'paused' : 'active';
          actions.append(
            button(c.status === 'active' ? 'Pause' : 'Resume', () =>
              attempt(async () => {
                await api('PUT', `/campaigns/${id}`, {
                  name: c.name,
                  status: next,
                  window: c.window,
                  dispositions: c.dispositions,
                });
                say(`Campaign ${id} is ${next}.`);
                await show('campaigns');
              }),
            ),
          );
        }
        const rules = ((c.window as { rules?: { days: number[]; from: string; to: string }[] })?.rules ?? [])
          .map((r) => `${r.days.map((d) => DAYS[d - 1]?.[1] ?? d).join(',')} ${r.from}–${r.to}`)
          .join('; ');
        const outcomes = Object.keys((c.dispositions as Json | null) ?? {}).join(', ');
        return [
          el('strong', {}, txt(c.name)),
          id,
          el('span', { class: `pill status-${txt(c.status)}` }, txt(c.status)),
          rules || 'never',
          queue,
          assigned ? (assigned.agentIds.length ? assigned.agentIds.join(', ') : 'every agent') : '—',
          el('small', {}, outcomes),
          actions,
        ];
      }),
    );
    into.append(
      table(
        ['name', 'id', 'status', 'calling hours (callee local)', 'queue', 'agents', 'outcome codes', ''],
        rows,
      ),
    );
    if (!isAdmin()) return;
    const dayBoxes = el(
      'fieldset',
      {},
      el('legend', {}, 'Days'),
      ...DAYS.map(([n, d]) =>
        el(
          'label',
          {},
          el('input', {
            type: 'checkbox',
            name: 'day',
            value: txt(n),
            ...(n <= 5 ? { checked: '' } : {}),
          }),
          d,
        ),
      ),
    );
    into.append(
      form(
        'Create or replace a campaign',
        [
          input('Id', 'id', { required: '', pattern: '[A-Za-z0-9_-]{1,64}' }),
          input('Name', 'name', { required: '' }),
          select('Status', 'status', [
            ['active', 'active'],
            ['paused', 'paused'],
          ]),
          dayBoxes,
          input('From', 'from', { value: '09:00', pattern: '\\d\\d:\\d\\d' }),
          input('To', 'to', { value: '20:00', pattern: '\\d\\d:\\d\\d' }),
          el(
            'label',
            { class: 'wide' },
            'Own outcome codes (JSON: code → policy) ',
            el('textarea', { name: 'dispositions', rows: '3' }, '{"sale": {"final": true, "contact": true}}'),
          ),
        ],
        'Save campaign',
        async (d) => {
          const window = check(callingWindowSchema, {
            rules: [{ days: d.getAll('day').map(Number), from: field(d, 'from'), to: field(d, 'to') }],
          });
          let custom: unknown;
          try {
            custom = JSON.parse(field(d, 'dispositions') || '{}');
          } catch {
            throw new Error('outcome codes: not valid JSON');
          }
          check(dispositionsSchema, custom);
          const id = field(d, 'id');
          await api('PUT', `/campaigns/${encodeURIComponent(id)}`, {
            name: field(d, 'name'),
            status: field(d, 'status'),
            window,
            dispositions: custom,
          });
          say(`Campaign ${id} saved.`);
          await show('campaigns');
        },
      ),
      editCampaign(page.items),
      form(
        'Assign agents to a campaign',
        [
          select(
            'Campaign',
            'campaign',
            page.items.map((c) => [txt(c.id), txt(c.name)]),
          ),
          input('Agent ids (comma separated; empty: every agent)', 'agents', { size: '40' }),
        ],
        'Save assignment',
        async (d) => {
          const agentIds = field(d, 'agents')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
          await api('PUT', `/campaigns/${encodeURIComponent(field(d, 'campaign'))}/agents`, { agentIds });
          say('Assignment saved.');
          await show('campaigns');
        },
      ),
    );
  },
};

/** Change an existing campaign's calling hours and outcome codes (PATCH: nothing else changes). */
function editCampaign(items: readonly Json[]): HTMLElement {
  const rulesOf = (c: Json | undefined) =>
    ((c?.window as { rules?: { days: number[]; from: string; to: string }[] } | undefined)?.rules ?? [])[0];
  const days = el(
    'fieldset',
    {},
    el('legend', {}, 'Days'),
    ...DAYS.map(([n, d]) =>
      el('label', {}, el('input', { type: 'checkbox', name: 'day', value: txt(n) }), d),
    ),
  );
  const f = form(
    'Edit a campaign’s calling hours and outcome codes',
    [
      select(
        'Campaign',
        'campaign',
        items.map((c) => [txt(c.id), txt(c.name)]),
      ),
      days,
      input('From', 'from', { pattern: '\\d\\d:\\d\\d' }),
      input('To', 'to', { pattern: '\\d\\d:\\d\\d' }),
      el(
        'label',
        { class: 'wide' },
        'Own outcome codes (JSON: code → policy) ',
        el('textarea', { name: 'dispositions', rows: '3' }),
      ),
    ],
    'Save changes',
    async (d) => {
      const window = check(callingWindowSchema, {
        rules: [{ days: d.getAll('day').map(Number), from: field(d, 'from'), to: field(d, 'to') }],
      });
      let custom: unknown;
      try {
        custom = JSON.parse(field(d, 'dispositions') || '{}');
      } catch {
        throw new Error('outcome codes: not valid JSON');
      }
      check(dispositionsSchema, custom);
      const id = field(d, 'campaign');
      await api('PATCH', `/campaigns/${encodeURIComponent(id)}`, { window, dispositions: custom });
      say(`Campaign ${id} updated.`);
      await show('campaigns');
    },
  );
  f.classList.add('campaign-edit');
  const sel = f.querySelector('select[name=campaign]') as HTMLSelectElement;
  // Filled from the campaign chosen: what is changed is what it has now.
  const fill = () => {
    const c = items.find((x) => txt(x.id) === sel.value);
    const r = rulesOf(c);
    for (const box of Array.from(f.querySelectorAll<HTMLInputElement>('input[name=day]'))) {
      box.checked = r?.days.includes(Number(box.value)) ?? false;
    }
    (f.querySelector('input[name=from]') as HTMLInputElement).value = r?.from ?? '09:00';
    (f.querySelector('input[name=to]') as HTMLInputElement).value = r?.to ?? '20:00';
    (f.querySelector('textarea[name=dispositions]') as HTMLTextAreaElement).value = JSON.stringify(
      c?.dispositions ?? {},
    );
  };
  sel.addEventListener('change', fill);
  fill();
  return f;
}

const leads: Section = {
  id: 'leads',
  title: 'Leads & DNC',
  adminOnly: true,
  async render(into) {
    const ids = await campaignIds();
    const list = el('div', {});
    const pick = select(
      'Campaign',
      'campaign',
      ids.map((i) => [i, i]),
    ) as HTMLLabelElement;
    const sel = pick.querySelector('select') as HTMLSelectElement;
    const load = () =>
      attempt(async () => {
        if (!sel.value) return;
        const page = await api<Page>('GET', `/campaigns/${encodeURIComponent(sel.value)}/leads?limit=100`);
        list.replaceChildren(
          table(
            ['id', 'name', 'phone', 'status', 'attempts', 'due'],
            page.items.map((l) => [
              txt(l.id),
              txt(l.name ?? ''),
              txt(l.phone),
              txt(l.status),
              txt(l.attempts),
              when(l.dueAt),
            ]),
          ),
        );
      });
    sel.addEventListener('change', load);
    into.append(
      importPanel(
        {
          base: () => `/api/v1/tenants/${tenant()}`,
          token: () => session.accessToken(),
          say,
          attempt,
          check,
          fail: (code, message) => {
            throw new ApiError(code, message);
          },
        },
        ids,
      ),
      el('h3', {}, 'Leads (first 100)'),
      pick,
      list,
    );
    load();

    const removeDnc = (phone: string) =>
      attempt(async () => {
        const r = await api<{ removed: boolean }>('DELETE', `/dnc/${encodeURIComponent(phone)}`);
        say(r.removed ? `${phone} removed from the do-not-call list.` : `${phone} was not listed.`);
        await show('leads');
      });
    const dnc = await api<Page>('GET', '/dnc?limit=100');
    into.append(
      el('h3', {}, 'Do-not-call list (first 100)'),
      table(
        ['number', 'source', 'added', ''],
        dnc.items.map((n) => [
          txt(n.phone),
          txt(n.source ?? ''),
          when(n.createdAt ?? n.addedAt),
          button('Remove', () => removeDnc(txt(n.phone)), {
            class: 'dnc-remove',
            'aria-label': `Remove ${txt(n.phone)} from the do-not-call list`,
          }),
        ]),
      ),
      form(
        'Remove a number from the do-not-call list',
        [input('Number (E.164)', 'phone', { required: '', placeholder: '+442079460000' })],
        'Remove',
        (d) => Promise.resolve(removeDnc(field(d, 'phone'))),
      ),
      form(
        'Is a number listed?',
        [input('Number (E.164)', 'phone', { required: '', placeholder: '+442079460000' })],
        'Check',
        async (d) => {
          const r = await api<{ listed: boolean }>('GET', `/dnc/${encodeURIComponent(field(d, 'phone'))}`);
          say(`${field(d, 'phone')} is ${r.listed ? '' : 'not '}on the do-not-call list.`);
        },
      ),
      form(
        'Add numbers to the do-not-call list',
        [
          el(
            'label',
            { class: 'wide' },
            'Numbers, one per line (E.164) ',
            el('textarea', { name: 'phones', rows: '3', required: '' }),
          ),
        ],
        'Add',
        async (d) => {
          const phones = field(d, 'phones')
            .split(/\s+/)
            .map((s) => s.trim())
            .filter(Boolean);
          const r = await api<{ removed: number }>('POST', '/dnc', { phones });
          say(`${phones.length} number(s) listed; ${r.removed} lead(s) taken out of the queues.`);
          await show('leads');
        },
      ),
    );
  },
};

const users: Section = {
  id: 'users',
  title: 'Users',
  adminOnly: true,
  async render(into) {
    const page = await api<Page>('GET', '/users?limit=500');
    into.append(
      table(
        ['id', 'name', 'role', 'e-mail', ''],
        page.items.map((u) => [
          txt(u.id),
          txt(u.name),
          txt(u.role),
          txt(u.email ?? '—'),
          button('Delete', () =>
            attempt(async () => {
              if (!confirm(`Delete ${txt(u.id)}? Their sessions and devices are disconnected.`)) return;
              await api('DELETE', `/users/${encodeURIComponent(txt(u.id))}`);
              say(`User ${txt(u.id)} deleted.`);
              await show('users');
            }),
          ),
        ]),
      ),
      form(
        'Add a user',
        [
          input('Id', 'id', { required: '', pattern: '[A-Za-z0-9_-]{1,64}' }),
          input('Name', 'name', { required: '' }),
          select('Role', 'role', [
            ['agent', 'agent'],
            ['supervisor', 'supervisor'],
            ['admin', 'admin'],
          ]),
          input('E-mail', 'email', { type: 'email' }),
          input('Password', 'password', { type: 'password', autocomplete: 'new-password' }),
        ],
        'Add user',
        async (d, f) => {
          await api('POST', '/users', {
            id: field(d, 'id'),
            name: field(d, 'name'),
            role: field(d, 'role'),
            ...(field(d, 'email') ? { email: field(d, 'email') } : {}),
            ...(field(d, 'password') ? { password: field(d, 'password') } : {}),
          });
          f.reset();
          say(`User ${field(d, 'id')} added.`);
          await show('users');
        },
      ),
    );
  },
};

const devices: Section = {
  id: 'devices',
  title: 'Devices',
  adminOnly: false,
  async render(into) {
    const page = await api<Page>('GET', '/devices?limit=500');
    const shown = el('div', {});
    into.append(
      shown,
      table(
        ['label', 'agent', 'platform', 'model', 'last login', ''],
        page.items.map((d) => {
          const id = encodeURIComponent(txt(d.id));
          const label = el('input', {
            value: txt(d.label ?? ''),
            'aria-label': `Label of ${txt(d.id)}`,
            size: '14',
          }) as HTMLInputElement;
          const actions = isAdmin()
            ? el(
                'span',
                { class: 'actions' },
                button('Rename', () =>
                  attempt(async () => {
                    await api('PATCH', `/devices/${id}`, { label: label.value });
                    say('Device renamed.');
                  }),
                ),
                button('Revoke', () =>
                  attempt(async () => {
                    if (!confirm('Revoke this device? It is disconnected at once.')) return;
                    await api('DELETE', `/devices/${id}`);
                    say('Device revoked and disconnected.');
                    await show('devices');
                  }),
                ),
              )
            : '';
          return [
            isAdmin() ? label : txt(d.label ?? ''),
            txt(d.agentId),
            txt(d.platform),
            txt(d.model ?? ''),
            when(d.lastLoginAt),
            actions,
          ];
        }),
      ),
    );
    if (!isAdmin()) return;
    into.append(
      form(
        'Register a device for an agent',
        [
          input('Device id (UUID)', 'id', { required: '', value: crypto.randomUUID(), size: '36' }),
          input('Agent id', 'agentId', { required: '' }),
          select('Platform', 'platform', [
            ['browser', 'browser'],
            ['android', 'android'],
            ['ios', 'ios'],
            ['softphone', 'softphone'],
          ]),
          input('Label', 'label'),
        ],
        'Register',
        async (d) => {
          const r = await api<{ token: string }>('PUT', `/devices/${encodeURIComponent(field(d, 'id'))}`, {
            agentId: field(d, 'agentId'),
            platform: field(d, 'platform'),
            label: field(d, 'label'),
          });
          await show('devices');
          $('#page').prepend(once('Device token', r.token));
        },
      ),
    );
  },
};

const apiKeys: Section = {
  id: 'keys',
  title: 'API keys',
  adminOnly: true,
  async render(into) {
    const page = await api<Page>('GET', '/api-keys');
    into.append(
      table(
        ['name', 'role', 'created by', 'last used', ''],
        page.items.map((k) => [
          txt(k.name),
          txt(k.role),
          txt(k.createdBy ?? ''),
          when(k.lastUsedAt),
          button('Revoke', () =>
            attempt(async () => {
              await api('DELETE', `/api-keys/${encodeURIComponent(txt(k.id))}`);
              say('API key revoked.');
              await show('keys');
            }),
          ),
        ]),
      ),
      form(
        'Create an API key',
        [
          input('Name', 'name', { required: '' }),
          select('Role', 'role', [
            ['supervisor', 'supervisor'],
            ['admin', 'admin'],
            ['agent', 'agent'],
          ]),
        ],
        'Create key',
        async (d) => {
          const r = await api<{ key: string }>('POST', '/api-keys', {
            name: field(d, 'name'),
            role: field(d, 'role'),
          });
          await show('keys');
          $('#page').prepend(once('API key', r.key));
        },
      ),
    );
  },
};

const tvLinks: Section = {
  id: 'tv',
  title: 'TV links',
  adminOnly: true,
  async render(into) {
    const page = await api<Page>('GET', '/wallboard/links');
    const ids = await campaignIds();
    into.append(
      el(
        'p',
        {},
        'A TV link opens the wallboard read-only, with no login, for a screen on the wall. Revoking it disconnects the screen at once.',
      ),
      table(
        ['name', 'campaign', 'created', 'last used', ''],
        page.items.map((l) => [
          txt(l.name),
          txt(l.campaignId ?? 'whole floor'),
          when(l.createdAt),
          when(l.lastUsedAt),
          button('Revoke', () =>
            attempt(async () => {
              await api('DELETE', `/wallboard/links/${encodeURIComponent(txt(l.id))}`);
              say('TV link revoked; its screens are disconnected.');
              await show('tv');
            }),
          ),
        ]),
      ),
      form(
        'Create a TV link',
        [
          input('Name', 'name', { required: '', placeholder: 'Hall screen' }),
          select('Shows', 'campaignId', [['', 'whole floor'], ...ids.map((i): [string, string] => [i, i])]),
        ],
        'Create link',
        async (d) => {
          const body = check(wallboardLinkBodySchema, {
            name: field(d, 'name'),
            ...(field(d, 'campaignId') ? { campaignId: field(d, 'campaignId') } : {}),
          });
          const r = await api<{ path: string }>('POST', '/wallboard/links', body);
          await show('tv');
          $('#page').prepend(once('TV link', `${location.origin}${r.path}`));
        },
      ),
    );
  },
};

const settings: Section = {
  id: 'settings',
  title: 'Wallboard settings',
  adminOnly: false,
  async render(into) {
    const { settings: s } = await api<{
      settings: { timeZone: string; thresholds: Record<string, [number, number]> };
    }>('GET', '/wallboard/settings');
    const states = STATE_ORDER_LIST.filter((st) => st !== 'offline');
    const ro: Record<string, string> = isAdmin() ? {} : { disabled: '' };
    const rows = states.map((st) => {
      const t = s.thresholds[st];
      return el(
        'div',
        { class: 'threshold' },
        el('span', {}, LABELS[st]),
        input('warn after (s)', `${st}.warn`, {
          type: 'number',
          min: '1',
          value: t ? txt(t[0]) : '',
          ...ro,
        }),
        input('alert after (s)', `${st}.alert`, {
          type: 'number',
          min: '1',
          value: t ? txt(t[1]) : '',
          ...ro,
        }),
      );
    });
    const f = form(
      'Time zone and time-in-state escalation',
      [input('Time zone (IANA)', 'timeZone', { value: s.timeZone, required: '', ...ro }), ...rows],
      'Save settings',
      async (d) => {
        const thresholds: Record<string, [number, number]> = {};
        for (const st of states) {
          const w = field(d, `${st}.warn`);
          const a = field(d, `${st}.alert`);
          if (w !== '' || a !== '') thresholds[st] = [Number(w), Number(a)];
        }
        const body = check(wallboardSettingsSchema, { timeZone: field(d, 'timeZone'), thresholds });
        await api('PUT', '/wallboard/settings', body);
        say('Settings saved; wallboards pick them up within a second.');
      },
    );
    if (!isAdmin()) f.querySelector('button[type=submit]')?.remove();
    into.append(f);
  },
};

const audit: Section = {
  id: 'audit',
  title: 'Audit log',
  adminOnly: true,
  async render(into) {
    const page = await api<Page>('GET', '/audit?limit=100');
    into.append(
      table(
        ['when', 'who', 'action', 'subject'],
        page.items.map((a) => [when(a.at ?? a.createdAt), txt(a.actor), txt(a.action), txt(a.subject ?? '')]),
      ),
    );
  },
};

const rights: Section = {
  id: 'rights',
  title: 'Rights requests',
  adminOnly: true,
  async render(into) {
    into.append(
      await rightsPanel({
        base: () => `/api/v1/tenants/${tenant()}`,
        token: () => session.accessToken(),
        say,
        attempt,
        fail: (code, message) => {
          throw new ApiError(code, message);
        },
        refresh: () => show('rights'),
      }),
    );
  },
};

const rulePacks: Section = {
  id: 'rule-packs',
  title: 'Rule packs',
  adminOnly: false,
  async render(into) {
    into.append(
      await rulePacksPanel({
        api: (method, path, body) => api(method, path, body),
        say,
        attempt,
        canWrite: isAdmin,
        refresh: () => show('rule-packs'),
      }),
    );
  },
};

const SECTIONS: readonly Section[] = [
  campaigns,
  leads,
  users,
  devices,
  apiKeys,
  tvLinks,
  settings,
  audit,
  rights,
  rulePacks,
];

// ---- navigation ----

async function show(id: string): Promise<void> {
  const section = SECTIONS.find((s) => s.id === id && (isAdmin() || !s.adminOnly)) ?? SECTIONS[0]!;
  if (location.hash !== `#${section.id}`) history.replaceState(null, '', `#${section.id}`);
  for (const b of $('#nav').querySelectorAll('button')) {
    b.setAttribute('aria-current', txt(b.dataset.section === section.id));
  }
  const into = el(
    'section',
    { 'aria-labelledby': 'section-title' },
    el('h2', { id: 'section-title' }, section.title),
  );
  $('#page').replaceChildren(into);
  await section.render(into);
}

function showLogin(message = ''): void {
  $('#login').hidden = false;
  $('#nav').hidden = true;
  $('#logout').hidden = true;
  $('#page').replaceChildren();
  $('#login-error').textContent = message;
}

function start(): void {
  $('#login').hidden = true;
  if (role() === 'agent') {
    $('#refused').hidden = false;
    return;
  }
  const nav = $('#nav');
  nav.replaceChildren(
    ...SECTIONS.filter((s) => isAdmin() || !s.adminOnly).map((s) => {
      const b = button(s.title, () => {
        say('');
        attempt(() => show(s.id));
      });
      b.dataset.section = s.id;
      return b;
    }),
  );
  nav.hidden = false;
  $('#logout').hidden = false;
  attempt(() => show(location.hash.slice(1)));
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const f = new FormData(e.target as HTMLFormElement);
  session
    .login(field(f, 'tenantId'), field(f, 'email'), field(f, 'password'))
    .then(() => start())
    .catch((err: unknown) => {
      $('#login-error').textContent =
        err instanceof LoginError ? err.message : 'The server could not be reached.';
    });
});
$('#logout').addEventListener('click', () => void session.logout().then(() => showLogin()));

if (session.current()) start();
else showLogin();
