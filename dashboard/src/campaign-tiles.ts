// The campaign tiles of the wallboard: queue depth, call figures, why nothing can be dialled,
// agents by state, floor averages and a uPlot chart of calls per minute (one chart per campaign,
// kept and fed new data rather than rebuilt).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { CampaignTile } from '../../gateway/supervisor/protocol.js';
import { duration, el, LABELS, STATE_ORDER_LIST, SYMBOLS } from './dom.js';

export interface TileOptions {
  readonly tv: boolean;
  /** Server time (epoch ms). */
  readonly now: number;
  readonly onToggle: (c: CampaignTile) => void;
}

const charts = new Map<string, { plot: uPlot; node: HTMLElement }>();

/** Forget every chart (the tiles are about to be rebuilt for another scope). */
export function resetCharts(): void {
  for (const { plot } of charts.values()) plot.destroy();
  charts.clear();
}

const pct = (x: number | null): string => (x === null ? '—' : `${Math.round(x * 100)}%`);
const secs = (x: number | null): string => (x === null ? '—' : duration(x));

export function renderCampaignTiles(
  box: HTMLElement,
  campaigns: readonly CampaignTile[],
  opts: TileOptions,
): void {
  const { tv } = opts;
  const seen = new Set<string>();
  for (const c of campaigns) {
    seen.add(c.id);
    let node = box.querySelector<HTMLElement>(`[data-campaign="${CSS.escape(c.id)}"]`);
    if (!node) {
      node = el('article', { class: 'campaign', 'data-campaign': c.id });
      box.append(node);
    }
    const q = c.queue;
    const figures: [string, string][] = [
      ['ready', q ? String(q.ready) : '—'],
      ['scheduled', q ? String(q.scheduled) : '—'],
      ['leased', q ? String(q.leased) : '—'],
      ['callbacks due', String(c.callbacksDue)],
      ['calls today', String(c.callsToday)],
      ['contacts / hour', String(c.contactsPerHour)],
      ['answer rate', pct(c.answerRate)],
      ['avg handle time', secs(c.ahtSec)],
    ];
    const byState = STATE_ORDER_LIST.filter((s) => c.agentsByState[s])
      .map((s) => `${SYMBOLS[s]} ${c.agentsByState[s]} ${LABELS[s]}`)
      .join(' · ');
    const a = c.averages;
    const chartHolder = charts.get(c.id)?.node ?? el('div', { class: 'chart', 'aria-hidden': 'true' });
    node.replaceChildren(
      el(
        'h3',
        {},
        el('span', {}, c.name),
        el('span', { class: `status ${c.status}` }, c.status === 'active' ? 'active' : `‖ ${c.status}`),
      ),
      el(
        'dl',
        { class: 'figures' },
        ...figures.map(([k, v]) => el('div', {}, el('dt', {}, k), el('dd', {}, v))),
      ),
      ...(c.emptyReason
        ? [
            el(
              'p',
              { class: 'why', role: 'note' },
              el('strong', {}, `Nothing to dial: ${c.emptyReason.replace(/_/g, ' ')}`),
              ' — ',
              c.emptyDetail ?? '',
            ),
          ]
        : []),
      el('p', { class: 'by-state' }, byState || 'no agents on this campaign'),
      el(
        'p',
        { class: 'averages' },
        `Averages (last hour): wait ${duration(a.waitSec)} · talk ${duration(a.talkSec)} · wrap-up ${duration(a.wrapSec)} · pause ${duration(a.pauseSec)}`,
      ),
      chartHolder,
    );
    drawChart(c, chartHolder, opts);
    if (!tv) {
      const toggle = el(
        'button',
        { type: 'button', class: 'act-campaign' },
        c.status === 'active' ? 'Pause campaign' : 'Resume campaign',
      );
      toggle.addEventListener('click', () => opts.onToggle(c));
      node.append(toggle);
    }
  }
  for (const node of Array.from(box.children) as HTMLElement[]) {
    if (!seen.has(node.dataset.campaign ?? '')) node.remove();
  }
}

function drawChart(c: CampaignTile, holder: HTMLElement, { tv, now }: TileOptions): void {
  const minute = 60_000;
  const end = Math.floor(now / minute) * minute;
  const xs = c.perMinute.map((_, i) => (end - (c.perMinute.length - 1 - i) * minute) / 1000);
  const data: uPlot.AlignedData = [xs, [...c.perMinute]];
  const existing = charts.get(c.id);
  if (existing) {
    existing.plot.setData(data);
    return;
  }
  const width = Math.max(280, (holder.parentElement?.clientWidth ?? 400) - 32);
  const plot = new uPlot(
    {
      width,
      height: tv ? 140 : 110,
      legend: { show: false },
      cursor: { show: false },
      axes: [
        { stroke: '#a8b3c2', grid: { stroke: '#2b3a4c' }, ticks: { stroke: '#2b3a4c' } },
        { stroke: '#a8b3c2', grid: { stroke: '#2b3a4c' }, ticks: { stroke: '#2b3a4c' }, label: 'calls/min' },
      ],
      series: [{}, { stroke: '#38bdf8', fill: 'rgba(56,189,248,0.25)', width: 2 }],
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(5, max)] } },
    },
    data,
    holder,
  );
  charts.set(c.id, { plot, node: holder });
}
