// The rights-requests page (a part of /admin, owners and admins): every data-subject request with
// its kind, status, when it was received, its deadline (one month later) and when it was
// completed; open requests past their deadline are flagged overdue (and counted at the top), and
// the list can be cut to the overdue ones. The page answers requests with the API's own actions:
// access (a copy of everything held about the number, as JSON or CSV, downloaded) and erasure
// (confirmed first: it cannot be undone). The number is typed into a form and sent in the request
// body, never put in the page's address or kept in the page after the answer.
import { el, field } from './dom.js';

/** What the admin page lends this one (no import back into admin.ts: no cycle). */
export interface RightsDeps {
  /** `/api/v1/tenants/:t` for the logged-in tenant. */
  base(): string;
  token(): Promise<string | null>;
  say(text: string, kind?: 'ok' | 'error'): void;
  attempt(work: () => Promise<void>): void;
  /** Raised with the server's code and message. */
  fail(code: string, message: string): never;
  /** Draw the page again (after an action). */
  refresh(): Promise<void>;
}

interface RightsRequest {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly actor: string;
  readonly receivedAt: number;
  readonly dueAt: number;
  readonly completedAt: number | null;
  readonly overdue: boolean;
}

const day = (ms: number | null): string => (ms === null ? '—' : new Date(ms).toLocaleDateString());

/** When a request came in: a date typed in the form (that day, UTC midnight), or now. */
const receivedAtOf = (d: FormData): { receivedAt?: string } => {
  const v = field(d, 'receivedAt');
  return v === '' ? {} : { receivedAt: new Date(`${v}T00:00:00Z`).toISOString() };
};

export async function rightsPanel(deps: RightsDeps, overdueOnly = false): Promise<HTMLElement> {
  async function call(path: string, body?: unknown): Promise<Response> {
    const token = await deps.token();
    if (!token) deps.fail('UNAUTHENTICATED', 'logged out');
    const res = await fetch(`${deps.base()}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) {
      const e = ((await res.json().catch(() => ({}))) as { error?: { code: string; message: string } }).error;
      deps.fail(e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText);
    }
    return res;
  }

  const items: RightsRequest[] = [];
  let after: string | null = null;
  do {
    const q: string = `/privacy/requests?limit=500${overdueOnly ? '&overdue=true' : ''}${after ? `&after=${after}` : ''}`;
    const page = (await (await call(q)).json()) as { items: RightsRequest[]; next: string | null };
    items.push(...page.items);
    after = page.next;
  } while (after !== null);
  // Newest first: the ones an admin acts on.
  items.reverse();
  const open = items.filter((r) => r.status === 'open').length;
  const overdue = items.filter((r) => r.overdue).length;

  const filter = el('input', {
    type: 'checkbox',
    id: 'rights-overdue',
    ...(overdueOnly ? { checked: '' } : {}),
  });
  filter.addEventListener('change', () =>
    deps.attempt(async () => {
      const next = await rightsPanel(deps, (filter as HTMLInputElement).checked);
      panel.replaceWith(next);
    }),
  );

  const summary = el(
    'p',
    { id: 'rights-summary', class: overdue > 0 ? 'rights-summary late' : 'rights-summary' },
    overdueOnly
      ? `${overdue} overdue`
      : `${items.length} request${items.length === 1 ? '' : 's'}, ${open} open, ${overdue} overdue`,
  );

  const rows = items.map((r) =>
    el(
      'tr',
      { class: r.overdue ? 'overdue' : '', 'data-request': r.id },
      el('td', {}, r.id),
      el('td', {}, r.kind),
      el('td', {}, r.status),
      el('td', {}, day(r.receivedAt)),
      el('td', {}, day(r.dueAt)),
      el('td', {}, day(r.completedAt)),
      el(
        'td',
        {},
        r.overdue ? el('strong', { class: 'flag' }, 'OVERDUE') : r.status === 'open' ? 'on time' : '',
      ),
      el('td', {}, r.actor),
    ),
  );
  const list =
    items.length === 0
      ? el('p', { class: 'empty' }, overdueOnly ? 'No overdue request.' : 'No request yet.')
      : el(
          'table',
          { id: 'rights-table' },
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ...['#', 'kind', 'status', 'received', 'deadline', 'completed', 'on time?', 'entered by'].map(
                (h) => el('th', { scope: 'col' }, h),
              ),
            ),
          ),
          el('tbody', {}, ...rows),
        );

  const phoneInput = () =>
    el(
      'label',
      {},
      'Phone number ',
      el('input', { name: 'phone', required: '', placeholder: '+447700900123' }),
    );
  const receivedInput = () =>
    el('label', {}, 'Received on (if not today) ', el('input', { name: 'receivedAt', type: 'date' }));

  const access = el(
    'form',
    { class: 'admin-form', id: 'rights-access' },
    el('h3', {}, 'Access: a copy of everything held about a number'),
    phoneInput(),
    receivedInput(),
    el(
      'label',
      {},
      'Format ',
      el(
        'select',
        { name: 'format' },
        el('option', { value: 'json' }, 'JSON'),
        el('option', { value: 'csv' }, 'CSV'),
      ),
    ),
    el('button', { type: 'submit' }, 'Export'),
  ) as HTMLFormElement;
  access.addEventListener('submit', (e) => {
    e.preventDefault();
    deps.attempt(async () => {
      const d = new FormData(access);
      const format = field(d, 'format') === 'csv' ? 'csv' : 'json';
      const res = await call('/privacy/access', { phone: field(d, 'phone'), format, ...receivedAtOf(d) });
      const blob = await res.blob();
      const a = el('a', {
        href: URL.createObjectURL(blob),
        download: `subject-export.${format}`,
        id: 'rights-download',
      }) as HTMLAnchorElement;
      a.click();
      access.reset();
      await deps.refresh();
      deps.say(`Access request answered: subject-export.${format} downloaded.`);
    });
  });

  const erasure = el(
    'form',
    { class: 'admin-form', id: 'rights-erasure' },
    el('h3', {}, 'Erasure: remove a person'),
    el(
      'p',
      { class: 'hint' },
      'Deletes every lead with the number in every campaign (attempts, notes, callbacks, follow-ups) and keeps only a keyed hash so an import cannot bring it back. It cannot be undone.',
    ),
    phoneInput(),
    receivedInput(),
    el(
      'label',
      {},
      el('input', { type: 'checkbox', name: 'confirm', required: '' }),
      ' I understand this cannot be undone',
    ),
    el('button', { type: 'submit' }, 'Erase'),
  ) as HTMLFormElement;
  erasure.addEventListener('submit', (e) => {
    e.preventDefault();
    deps.attempt(async () => {
      const d = new FormData(erasure);
      const res = await call('/privacy/erasures', { phone: field(d, 'phone'), ...receivedAtOf(d) });
      const r = (await res.json()) as { leads: number; attempts: number };
      erasure.reset();
      await deps.refresh();
      deps.say(`Erased: ${r.leads} lead(s), ${r.attempts} attempt(s).`);
    });
  });

  const panel = el(
    'div',
    { class: 'rights-panel' },
    summary,
    el('label', {}, filter, ' Only overdue requests'),
    list,
    access,
    erasure,
  );
  return panel;
}
