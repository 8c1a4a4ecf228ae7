// The supervisor wallboard (served at /): logs in with the identity API, subscribes to the floor
// on /supervisor, applies the snapshot and then the deltas (checking sequence numbers; a gap asks
// for a fresh snapshot), and shows how fresh what it shows is. Filters, sort and TV mode live in
// the URL. Tiles are keyed DOM nodes updated in place; time in state ticks locally from `since`.
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import './style.css';
import { FloorDecoder } from '../../gateway/supervisor/protocol.js';
import type {
  AgentStateName,
  AgentTile,
  CampaignTile,
  FloorAverages,
  SupervisorClientEvents,
  SupervisorServerEvents,
  WallboardSettings,
} from '../../gateway/supervisor/protocol.js';
import { renderCampaignTiles, resetCharts } from './campaign-tiles.js';
import { $, clock, duration, el, field, LABELS, SYMBOLS, STATE_ORDER, STATE_ORDER_LIST } from './dom.js';
import { session, LoginError } from './session.js';

type Sup = Socket<SupervisorServerEvents, SupervisorClientEvents>;

/** No frame for this long and the board is stale: counters come every second when all is well. */
const STALE_AFTER_MS = 3_000;

const params = new URLSearchParams(location.search);
/** A TV link's key (`/?tv=1#key=dhtv_…`): in the fragment, which is never sent to a server. */
const tvKey = new URLSearchParams(location.hash.slice(1)).get('key');
const tv = params.get('tv') === '1' || tvKey !== null;
document.body.classList.toggle('tv', tv);
document.documentElement.classList.toggle('tv', tv);

const state = {
  agents: new Map<string, AgentTile>(),
  campaigns: [] as CampaignTile[],
  averages: {} as Record<string, FloorAverages>,
  settings: { timeZone: 'UTC', thresholds: {} } as WallboardSettings,
  seq: 0,
  awaitingSnapshot: true,
  /** Server clock minus ours, from each frame's `at`. */
  offset: 0,
  lastFrameAt: 0,
  connected: false,
  held: false,
  heldUpdates: 0,
  replay: null as null | { at: number; agents: AgentTile[] },
};

let socket: Sup | null = null;
/** The compact deltas' tables (agent and campaign indexes), from the snapshot on. */
const decoder = new FloorDecoder();
const tiles = new Map<string, HTMLElement>();

// ---- URL-kept view options ----

function option(name: string, fallback: string): string {
  return params.get(name) ?? fallback;
}
function setOption(name: string, value: string, fallback: string): void {
  if (value === fallback) params.delete(name);
  else params.set(name, value);
  const q = params.toString();
  history.replaceState(null, '', q ? `?${q}` : location.pathname);
}

// ---- login ----

function showLogin(message = ''): void {
  $('#login').hidden = false;
  $('#board').hidden = true;
  $('#controls').hidden = true;
  $('#login-error').textContent = message;
  setBadge('stale', 'logged out');
  ($('#login-form').querySelector('[name=password]') as HTMLInputElement).focus();
}

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = new FormData(e.target as HTMLFormElement);
  session
    .login(field(form, 'tenantId'), field(form, 'email'), field(form, 'password'))
    .then((s) => {
      if (s.user.role === 'agent') {
        showLogin('Agents use the agent console.');
        return;
      }
      start();
    })
    .catch((err: unknown) => {
      $('#login-error').textContent =
        err instanceof LoginError ? err.message : 'The server could not be reached.';
    });
});

$('#logout').addEventListener('click', () => {
  socket?.disconnect();
  socket = null;
  void session.logout().then(() => showLogin());
});

// ---- the socket ----

function start(): void {
  $('#login').hidden = true;
  $('#board').hidden = false;
  $('#controls').hidden = tv;
  socket?.disconnect();
  const s: Sup = io('/supervisor', {
    transports: ['websocket'],
    auth: (cb) => {
      if (tvKey !== null) cb({ token: tvKey });
      else void session.accessToken().then((token) => cb({ token: token ?? '' }));
    },
  });
  socket = s;
  s.on('connect', () => {
    state.connected = true;
    subscribe();
  });
  s.on('disconnect', () => {
    state.connected = false;
  });
  s.on('connect_error', (err) => {
    const code = (err as unknown as { data?: { code?: string } }).data?.code;
    if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN') {
      s.disconnect();
      if (tvKey !== null) linkRefused();
      else void session.logout().then(() => showLogin(err.message));
    }
  });
  // The server ended the connection: an expired access token reconnects with a refreshed one;
  // a logout, a deleted user or a revoked TV link ends here.
  s.on('session:ended', (f) => {
    state.connected = false;
    if (f.reason === 'token_expired' && tvKey === null) {
      setTimeout(() => s.connect(), 100);
    } else if (tvKey !== null) {
      linkRefused();
    } else {
      s.disconnect();
      void session.logout().then(() => showLogin('Your session has ended; log in again.'));
    }
  });
  s.on('floor:snapshot', (f) => {
    frame(f.at);
    state.seq = f.seq;
    state.awaitingSnapshot = false;
    decoder.snapshot(f);
    state.settings = f.settings;
    state.agents = new Map(f.agents.map((a) => [a.agentId, a]));
    state.campaigns = [...f.campaigns];
    state.averages = { ...f.agentAverages };
    for (const node of tiles.values()) node.remove();
    tiles.clear();
    render(true);
  });
  s.on('floor:agents', (f) => {
    if (!inSequence(f.seq)) return;
    frame(f.at);
    const agents = decoder.agents(f);
    for (const a of agents) state.agents.set(a.agentId, a);
    render(false, agents);
  });
  s.on('floor:counters', (f) => {
    if (!inSequence(f.seq)) return;
    frame(f.at);
    // Campaign tiles only when one changed; only the averages that changed.
    if (f.campaigns) state.campaigns = [...f.campaigns];
    const averages = decoder.averages(f);
    Object.assign(state.averages, averages.changed);
    for (const id of averages.removed) delete state.averages[id];
    if (f.settings) state.settings = f.settings;
    render(true);
  });
}

/** A revoked (or mistyped) TV link: say so, never keep showing the last frame as if live. */
function linkRefused(): void {
  socket?.disconnect();
  socket = null;
  state.connected = false;
  $('#board').hidden = true;
  $('#login').hidden = true;
  const note = $('#link-refused');
  note.hidden = false;
  setBadge('stale', 'link revoked');
}

function subscribe(): void {
  state.awaitingSnapshot = true;
  const campaign = option('campaign', '');
  socket?.emit('floor:subscribe', campaign ? { campaignId: campaign } : {}, (ack) => {
    if (!ack.ok && campaign) {
      setOption('campaign', '', '');
      subscribe();
    }
  });
}

/** True when the frame follows the last one; a gap asks for a fresh snapshot. */
function inSequence(seq: number): boolean {
  if (state.awaitingSnapshot) return false;
  if (seq !== state.seq + 1) {
    state.awaitingSnapshot = true;
    socket?.emit('floor:resync', {}, () => undefined);
    return false;
  }
  state.seq = seq;
  return true;
}

function frame(at: number): void {
  state.lastFrameAt = Date.now();
  state.offset = at - Date.now();
}

const serverNow = (): number => Date.now() + state.offset;

// ---- freshness ----

function setBadge(kind: string, text: string): void {
  const b = $('#badge');
  b.className = `badge ${kind}`;
  b.textContent = text;
}

function freshness(): void {
  const age = state.lastFrameAt === 0 ? Infinity : Date.now() - state.lastFrameAt;
  const ageText = Number.isFinite(age) ? `last update ${Math.round(age / 1000)} s ago` : 'no data yet';
  const stale = !state.connected || age > STALE_AFTER_MS;
  document.body.classList.toggle('stale', stale && !state.replay);
  if ($('#login').hidden === false || $('#link-refused').hidden === false) return;
  if (state.replay) setBadge('replay', `replay ${clock(state.replay.at, state.settings.timeZone)}`);
  else if (!state.connected && age > STALE_AFTER_MS) setBadge('stale', `stale · reconnecting · ${ageText}`);
  else if (!state.connected) setBadge('reconnecting', `reconnecting · ${ageText}`);
  else if (stale) setBadge('stale', `stale · ${ageText}`);
  else if (state.held) setBadge('held', `paused · ${state.heldUpdates} updates waiting`);
  else setBadge('live', 'live');
}

// ---- rendering ----

function level(a: AgentTile, now: number): 0 | 1 | 2 {
  const t = state.settings.thresholds[a.state];
  if (!t || a.since === null) return 0;
  const sec = (now - a.since) / 1000;
  return sec >= t[1] ? 2 : sec >= t[0] ? 1 : 0;
}

function stateText(a: AgentTile): string {
  const label = `${SYMBOLS[a.state]} ${LABELS[a.state]}`;
  return a.state === 'paused' && a.reason ? `${label}: ${a.reason.replace(/_/g, ' ')}` : label;
}

function agentNode(a: AgentTile): HTMLElement {
  const node = el('article', { class: 'agent', 'data-agent': a.agentId, tabindex: '0' });
  node.append(
    el('div', { class: 'name' }),
    el('div', { class: 'state' }),
    el('div', { class: 'time' }),
    el('div', { class: 'meta' }),
    el('div', { class: 'avg' }),
  );
  if (!tv) {
    const pause = el('button', { type: 'button', class: 'act-pause' }, 'Pause…');
    const out = el('button', { type: 'button', class: 'act-logout' }, 'Log out');
    pause.addEventListener('click', () => askPause(a.agentId));
    out.addEventListener('click', () => act('agent:logout', { agentId: a.agentId }));
    node.append(el('div', { class: 'actions' }, pause, out));
  }
  return node;
}

function fillAgent(node: HTMLElement, a: AgentTile, now: number): void {
  const lvl = level(a, now);
  node.className = `agent state-${a.state} level-${lvl}`;
  node.dataset.state = a.state;
  const [name, st, time, meta, avg] = Array.from(node.children) as HTMLElement[];
  name!.textContent = a.name;
  st!.textContent = stateText(a);
  const mark = lvl === 2 ? ' ‼' : lvl === 1 ? ' ⚠' : '';
  time!.textContent = a.since === null ? '—' : `${duration((now - a.since) / 1000)}${mark}`;
  const bits = [a.campaignId ? `campaign ${a.campaignId}` : 'no campaign'];
  if (a.leadFirstName) bits.push(`with ${a.leadFirstName}`);
  meta!.textContent = bits.join(' · ');
  const av = state.averages[a.agentId];
  avg!.textContent = av
    ? `wait ${duration(av.waitSec)} · talk ${duration(av.talkSec)} · wrap ${duration(av.wrapSec)} · pause ${duration(av.pauseSec)}`
    : '';
  node.setAttribute('aria-label', `${a.name}: ${st!.textContent}, ${time!.textContent}`);
}

const names = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
const byName = (x: AgentTile, y: AgentTile): number =>
  names.compare(x.name, y.name) || names.compare(x.agentId, y.agentId);

function visibleAgents(): AgentTile[] {
  const source = state.replay ? state.replay.agents : [...state.agents.values()];
  const filter = option('state', '');
  const campaign = option('campaign', '');
  const list = source.filter(
    (a) => (!filter || a.state === filter) && (!campaign || a.campaignId === campaign),
  );
  const sort = option('sort', 'name');
  const now = serverNow();
  list.sort((x, y) => {
    if (sort === 'state') return STATE_ORDER[x.state] - STATE_ORDER[y.state] || byName(x, y);
    if (sort === 'time') return now - (y.since ?? now) - (now - (x.since ?? now)) || byName(x, y);
    return byName(x, y);
  });
  return list;
}

function render(all: boolean, changed: readonly AgentTile[] = []): void {
  if (state.held) {
    state.heldUpdates += all ? 1 : changed.length;
    return;
  }
  const now = serverNow();
  if (all || option('sort', 'name') !== 'name' || option('state', '')) {
    const container = $('#agents');
    const list = visibleAgents();
    const keep = new Set(list.map((a) => a.agentId));
    for (const [id, node] of tiles) {
      if (!keep.has(id)) {
        node.remove();
        tiles.delete(id);
      }
    }
    list.forEach((a, i) => {
      let node = tiles.get(a.agentId);
      if (!node) {
        node = agentNode(a);
        tiles.set(a.agentId, node);
      }
      fillAgent(node, a, now);
      if (container.children[i] !== node) container.insertBefore(node, container.children[i] ?? null);
    });
    $('#agent-count').textContent = `${list.length} agents${countByState(list)}`;
    if (all) renderCampaigns();
    fillScopeSelect();
  } else {
    for (const a of changed) {
      const node = tiles.get(a.agentId);
      if (node && !state.replay) fillAgent(node, a, now);
      else if (!node) render(true);
    }
    $('#agent-count').textContent = `${tiles.size} agents${countByState([...state.agents.values()])}`;
  }
}

function countByState(list: readonly AgentTile[]): string {
  const n = new Map<AgentStateName, number>();
  for (const a of list) n.set(a.state, (n.get(a.state) ?? 0) + 1);
  const parts = [...n]
    .sort((x, y) => STATE_ORDER[x[0]] - STATE_ORDER[y[0]])
    .map(([s, c]) => `${c} ${LABELS[s]}`);
  return parts.length ? ` — ${parts.join(', ')}` : '';
}

function renderCampaigns(): void {
  renderCampaignTiles($('#campaigns'), state.campaigns, {
    tv,
    now: serverNow(),
    onToggle: (c) => act(c.status === 'active' ? 'campaign:pause' : 'campaign:resume', { campaignId: c.id }),
  });
}

function fillScopeSelect(): void {
  const sel = $('#scope') as HTMLSelectElement;
  const want = ['', ...state.campaigns.map((c) => c.id)];
  if (sel.options.length !== want.length || want.some((v, i) => sel.options[i]?.value !== v)) {
    sel.replaceChildren(
      el('option', { value: '' }, 'whole floor'),
      ...state.campaigns.map((c) => el('option', { value: c.id }, c.name)),
    );
  }
  sel.value = option('campaign', '');
}

// ---- actions ----

function act<E extends 'agent:logout' | 'agent:force_pause' | 'campaign:pause' | 'campaign:resume'>(
  event: E,
  payload: Parameters<SupervisorClientEvents[E]>[0],
): void {
  const emit = socket?.emit.bind(socket) as unknown as (
    e: string,
    p: unknown,
    ack: (a: { ok: boolean; error?: { message: string } }) => void,
  ) => void;
  emit(event, payload, (ack) => {
    if (!ack.ok) alert(ack.error?.message ?? 'refused');
  });
}

let pausing = '';
function askPause(agentId: string): void {
  pausing = agentId;
  $('#pause-who').textContent =
    `Pause ${state.agents.get(agentId)?.name ?? agentId}? A call in progress is never cut: the agent is paused once it is saved.`;
  ($('#pause-dialog') as HTMLDialogElement).showModal();
}
$('#pause-dialog').addEventListener('close', () => {
  const dialog = $('#pause-dialog') as HTMLDialogElement;
  if (dialog.returnValue !== 'ok' || !pausing) return;
  const reason = ($('#pause-form').querySelector('[name=reason]') as HTMLInputElement).value.trim();
  act('agent:force_pause', { agentId: pausing, reason });
});

// ---- controls ----

function initControls(): void {
  const filter = $('#filter-state') as HTMLSelectElement;
  filter.replaceChildren(
    el('option', { value: '' }, 'all states'),
    ...STATE_ORDER_LIST.map((s) => el('option', { value: s }, `${SYMBOLS[s]} ${LABELS[s]}`)),
  );
  filter.value = option('state', '');
  filter.addEventListener('change', () => {
    setOption('state', filter.value, '');
    render(true);
  });
  const sort = $('#sort') as HTMLSelectElement;
  sort.value = option('sort', 'name');
  sort.addEventListener('change', () => {
    setOption('sort', sort.value, 'name');
    render(true);
  });
  const scope = $('#scope') as HTMLSelectElement;
  scope.addEventListener('change', () => {
    setOption('campaign', scope.value, '');
    resetCharts();
    $('#campaigns').replaceChildren();
    subscribe();
  });
  const hold = $('#pause');
  hold.addEventListener('click', () => {
    state.held = !state.held;
    hold.textContent = state.held ? 'Resume updates' : 'Pause updates';
    hold.setAttribute('aria-pressed', String(state.held));
    if (!state.held) {
      state.heldUpdates = 0;
      render(true);
    }
  });
  const replay = $('#replay') as HTMLInputElement;
  let timer: number | undefined;
  replay.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      const back = Number(replay.value);
      if (back === 0) {
        state.replay = null;
        $('#replay-at').textContent = 'live';
        render(true);
        return;
      }
      socket?.emit('floor:replay', { at: serverNow() + back * 1000 }, (ack) => {
        if (!ack.ok) return;
        state.replay = { at: ack.at, agents: ack.agents };
        $('#replay-at').textContent = clock(ack.at, state.settings.timeZone);
        render(true);
      });
    }, 150);
  });
  ($('#tv-link') as HTMLAnchorElement).href =
    `?${new URLSearchParams({ ...Object.fromEntries(params), tv: '1' }).toString()}`;
}

// Time in state, escalation and freshness move every second without any frame.
setInterval(() => {
  freshness();
  if (state.held) return;
  const now = serverNow();
  const source = state.replay ? new Map(state.replay.agents.map((a) => [a.agentId, a])) : state.agents;
  for (const [id, node] of tiles) {
    const a = source.get(id);
    if (a) fillAgent(node, a, state.replay ? state.replay.at : now);
  }
}, 1_000);

initControls();
if (tvKey !== null || session.current()) start();
else showLogin();
