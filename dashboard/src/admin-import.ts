// The lead import page (a part of /admin): pick a campaign and a CSV file, see the file previewed
// (encoding, delimiter, the column mapping the server guessed, the first rows as the import would
// read them, with their problems), change the mapping (which columns are phone numbers, the name,
// the reference, the time zone, the priority, custom fields, or left out), import, watch the
// counts grow while the file uploads, then download the rejects as a CSV. The mapping is checked
// with the API's own zod schema (columnMappingSchema) before it is sent.
import type { z } from 'zod';
import { columnMappingSchema } from '../../gateway/supervisor/admin-schemas.js';
import { el } from './dom.js';

/** What the admin page lends this one (no import back into admin.ts: no cycle). */
export interface ImportDeps {
  /** `/api/v1/tenants/:t` for the logged-in tenant. */
  base(): string;
  token(): Promise<string | null>;
  say(text: string, kind?: 'ok' | 'error'): void;
  attempt(work: () => Promise<void>): void;
  check<S extends z.ZodType>(schema: S, value: unknown): z.output<S>;
  /** Raised with the server's code and message. */
  fail(code: string, message: string): never;
}

type Mapping = z.input<typeof columnMappingSchema>;

interface Preview {
  readonly encoding: string;
  readonly delimiter: string;
  readonly header: string[];
  readonly mapping: Mapping | null;
  readonly sample: {
    readonly row: number;
    readonly lead: { phone: string; timeZones?: string[]; name?: string | null } | null;
    readonly problems: { column: string; code: string; severity: string; detail: string }[];
  }[];
}

interface ImportRecord {
  readonly id: string;
  readonly status: string;
  readonly rowsRead: number;
  readonly queued: number;
  readonly alreadyQueued: number;
  readonly duplicates: number;
  readonly dnc: number;
  readonly rejected: number;
  readonly warnings: number;
  readonly createdAt: number;
}

const ROLES: readonly [string, string][] = [
  ['field', 'custom field'],
  ['phone', 'phone number'],
  ['name', 'name (joined)'],
  ['externalRef', 'external reference'],
  ['timeZone', 'time zone'],
  ['priority', 'priority'],
  ['skip', 'leave out'],
];

const COUNTS: readonly [keyof ImportRecord, string][] = [
  ['rowsRead', 'rows read'],
  ['queued', 'queued'],
  ['alreadyQueued', 'already queued'],
  ['duplicates', 'duplicates in the file'],
  ['dnc', 'on the do-not-call list'],
  ['rejected', 'rejected'],
  ['warnings', 'imported with a warning'],
];

/** Each column's role as the mapping gives it. */
function rolesOf(header: readonly string[], m: Mapping | null): Map<string, string> {
  const roles = new Map<string, string>();
  for (const h of header) roles.set(h, m?.fields && !m.fields.includes(h) ? 'skip' : 'field');
  if (!m) return roles;
  for (const h of m.phones) roles.set(h, 'phone');
  for (const h of m.name ?? []) roles.set(h, 'name');
  if (m.externalRef) roles.set(m.externalRef, 'externalRef');
  if (m.timeZone) roles.set(m.timeZone, 'timeZone');
  if (m.priority) roles.set(m.priority, 'priority');
  return roles;
}

/** The mapping the selects say, in header order, checked with the API's schema. */
function mappingOf(deps: ImportDeps, header: readonly string[], box: HTMLElement): Mapping {
  const role = (h: string, i: number) =>
    box.querySelector<HTMLSelectElement>(`select[data-column="${i}"]`)?.value ?? 'field';
  const pick = (r: string) => header.filter((h, i) => role(h, i) === r);
  const one = (r: string) => pick(r)[0];
  const skipped = pick('skip').length > 0;
  const m = {
    phones: pick('phone'),
    name: pick('name'),
    ...(one('externalRef') ? { externalRef: one('externalRef') } : {}),
    ...(one('timeZone') ? { timeZone: one('timeZone') } : {}),
    ...(one('priority') ? { priority: one('priority') } : {}),
    ...(skipped ? { fields: pick('field') } : {}),
  };
  deps.check(columnMappingSchema, m);
  return m;
}

async function send<T>(deps: ImportDeps, method: string, path: string, body?: FormData): Promise<T> {
  const token = await deps.token();
  if (!token) deps.fail('UNAUTHENTICATED', 'logged out');
  const res = await fetch(`${deps.base()}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}` },
    ...(body ? { body } : {}),
  });
  const json = (await res.json().catch(() => ({}))) as {
    error?: { code: string; message: string; issues?: { path: string; message: string }[] };
  };
  if (!res.ok) {
    const issues = json.error?.issues?.map((i) => `${i.path || 'body'}: ${i.message}`).join('; ');
    deps.fail(
      json.error?.code ?? `HTTP_${res.status}`,
      `${json.error?.message ?? res.statusText}${issues ? ` (${issues})` : ''}`,
    );
  }
  return json as T;
}

function upload(file: File, mapping: Mapping | null): FormData {
  // The options go before the file part: the server reads them before it streams the rows.
  const body = new FormData();
  if (mapping) body.append('mapping', JSON.stringify(mapping));
  body.append('file', file, file.name);
  return body;
}

function countsTable(job: ImportRecord): HTMLElement {
  return el(
    'dl',
    { class: 'counts', 'data-import': job.id, 'data-status': job.status },
    ...COUNTS.flatMap(([k, label]) => [el('dt', {}, label), el('dd', { 'data-count': k }, String(job[k]))]),
  );
}

/** Save the rejects of an import as a CSV file (fetched with the bearer token, then a blob link). */
async function downloadRejects(deps: ImportDeps, id: string): Promise<void> {
  const token = await deps.token();
  const res = await fetch(`${deps.base()}/imports/${encodeURIComponent(id)}/rejects?format=csv`, {
    headers: { authorization: `Bearer ${token ?? ''}` },
  });
  if (!res.ok) deps.fail(`HTTP_${res.status}`, 'the rejects could not be downloaded');
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: `import-${id}-rejects.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The import panel, for the campaigns given. */
export function importPanel(deps: ImportDeps, campaignIds: readonly string[]): HTMLElement {
  const campaign = el(
    'select',
    { name: 'campaign' },
    ...campaignIds.map((c) => el('option', { value: c }, c)),
  ) as HTMLSelectElement;
  const file = el('input', {
    type: 'file',
    name: 'file',
    accept: '.csv,text/csv,text/plain',
  }) as HTMLInputElement;
  const previewBox = el('div', { id: 'import-preview' });
  const progress = el('div', { id: 'import-progress', role: 'status', 'aria-live': 'polite' });
  let preview: Preview | null = null;

  const chosen = (): File => {
    const f = file.files?.[0];
    if (!f) deps.fail('IMPORT_INVALID', 'choose a CSV file first');
    return f;
  };
  const path = (suffix = '') => `/campaigns/${encodeURIComponent(campaign.value)}/imports${suffix}`;

  const showPreview = (p: Preview) => {
    preview = p;
    const roles = rolesOf(p.header, p.mapping);
    const columns = el(
      'table',
      { class: 'mapping' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'column'), el('th', { scope: 'col' }, 'is'))),
      el(
        'tbody',
        {},
        ...p.header.map((h, i) => {
          const sel = el(
            'select',
            { 'data-column': String(i), 'aria-label': `column ${h}` },
            ...ROLES.map(([v, t]) => el('option', { value: v }, t)),
          ) as HTMLSelectElement;
          sel.value = roles.get(h) ?? 'field';
          return el('tr', {}, el('td', {}, h), el('td', {}, sel));
        }),
      ),
    );
    const rows = el(
      'table',
      { class: 'sample' },
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          ...['row', 'phone', 'name', 'zones', 'problems'].map((h) => el('th', { scope: 'col' }, h)),
        ),
      ),
      el(
        'tbody',
        {},
        ...p.sample.map((s) =>
          el(
            'tr',
            { class: s.lead ? 'ok' : 'rejected' },
            el('td', {}, String(s.row)),
            el('td', {}, s.lead?.phone ?? '—'),
            el('td', {}, s.lead?.name ?? ''),
            el('td', {}, (s.lead?.timeZones ?? []).join(', ')),
            el(
              'td',
              {},
              s.problems
                .map(
                  (x) =>
                    `${x.column ? `${x.column}: ` : ''}${x.code} (${x.severity})${x.detail ? ` ${x.detail}` : ''}`,
                )
                .join('; '),
            ),
          ),
        ),
      ),
    );
    previewBox.replaceChildren(
      el(
        'p',
        { class: 'file-info' },
        `Encoding ${p.encoding}, delimiter “${p.delimiter === '\t' ? 'tab' : p.delimiter}”, ${p.header.length} columns.`,
        p.mapping ? '' : ' No phone column was recognised: choose one.',
      ),
      el('div', { class: 'import-grid' }, columns, rows),
    );
  };

  const doPreview = (withMapping: boolean) =>
    deps.attempt(async () => {
      const mapping = withMapping && preview ? mappingOf(deps, preview.header, previewBox) : null;
      showPreview(await send<Preview>(deps, 'POST', path('/preview'), upload(chosen(), mapping)));
      deps.say('Preview ready: check the columns, then import.');
    });

  const doImport = () =>
    deps.attempt(async () => {
      const mapping = preview ? mappingOf(deps, preview.header, previewBox) : null;
      const started = Date.now();
      let done = false;
      progress.replaceChildren(el('p', {}, 'Uploading…'));
      // The answer comes when every row is accounted for: meanwhile the newest import of the
      // campaign (this one) is read every 0.3 s.
      const poll = async () => {
        while (!done) {
          await new Promise((r) => setTimeout(r, 300));
          const list = await send<{ items: ImportRecord[] }>(deps, 'GET', path('?limit=1')).catch(() => null);
          const job = list?.items[0];
          if (done || !job || job.createdAt < started - 60_000) continue;
          const live = await send<{ import: ImportRecord }>(deps, 'GET', `/imports/${job.id}`).catch(
            () => null,
          );
          if (!done && live)
            progress.replaceChildren(
              el('p', {}, `Importing… (${live.import.status})`),
              countsTable(live.import),
            );
        }
      };
      void poll();
      try {
        const r = await send<{ import: ImportRecord; sameFileAs: string | null }>(
          deps,
          'POST',
          path(),
          upload(chosen(), mapping),
        );
        done = true;
        const job = r.import;
        const rejects = el('button', { type: 'button', class: 'rejects' }, 'Download the rejects (CSV)');
        rejects.addEventListener('click', () => deps.attempt(() => downloadRejects(deps, job.id)));
        progress.replaceChildren(
          el('p', {}, `Import ${job.id} ${job.status}.`),
          countsTable(job),
          ...(r.sameFileAs
            ? [el('p', {}, `The same file was imported before (import ${r.sameFileAs}).`)]
            : []),
          ...(job.rejected + job.warnings > 0 ? [rejects] : []),
        );
        deps.say(`Import ${job.id}: ${job.queued} queued, ${job.rejected} rejected.`);
      } finally {
        done = true;
      }
    });

  const previewButton = el('button', { type: 'button', class: 'preview' }, 'Preview');
  previewButton.addEventListener('click', () => doPreview(false));
  const again = el('button', { type: 'button', class: 'preview-again' }, 'Preview with these columns');
  again.addEventListener('click', () => doPreview(true));
  const go = el('button', { type: 'button', class: 'import' }, 'Import');
  go.addEventListener('click', doImport);
  file.addEventListener('change', () => {
    preview = null;
    previewBox.replaceChildren();
    progress.replaceChildren();
  });

  return el(
    'div',
    { class: 'admin-form import-panel' },
    el('h3', {}, 'Import leads from a CSV file'),
    el('label', {}, 'Campaign ', campaign),
    el('label', {}, 'File ', file),
    el('p', { class: 'actions' }, previewButton, again, go),
    previewBox,
    progress,
  );
}
