// The browser agent console: this page is a device on /agent. It logs in with a device id and
// token, goes ready on a campaign, takes offers (accept / reject, status, a tel: link), and
// completes each call with the campaign's own outcome codes. It reconnects by itself and resumes
// its call by lease id; an outcome saved while offline waits in IndexedDB and is sent, with the
// same lease id, when the connection returns.
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import './style.css';
import type { AgentClientEvents, AgentServerEvents } from '../../gateway/protocol/events.js';
import type { AgentState, CompletePayload, OfferPayload } from '../../gateway/protocol/schemas.js';
import type { ConsoleCampaign } from '../../gateway/supervisor/protocol.js';
import { $, el, field, LABELS, SYMBOLS } from './dom.js';
import { outbox } from './outbox.js';

type Device = Socket<AgentServerEvents, AgentClientEvents>;

const CREDS = 'dialhub.device';
const CALL = 'dialhub.call';

interface Creds {
  readonly deviceId: string;
  readonly token: string;
}

let socket: Device | null = null;
let campaigns: ConsoleCampaign[] = [];
let offer: OfferPayload | null = null;
let agentState: AgentState | null = null;

const creds = (): Creds | null => {
  const raw = localStorage.getItem(CREDS);
  return raw ? (JSON.parse(raw) as Creds) : null;
};
/** The call this device holds, kept across reloads and reconnects (the resume key). */
const heldCall = (): OfferPayload | null => {
  const raw = localStorage.getItem(CALL);
  return raw ? (JSON.parse(raw) as OfferPayload) : null;
};
function holdCall(o: OfferPayload | null): void {
  offer = o;
  if (o) localStorage.setItem(CALL, JSON.stringify(o));
  else localStorage.removeItem(CALL);
}

function badge(kind: string, text: string): void {
  const b = $('#badge');
  b.className = `badge ${kind}`;
  b.textContent = text;
}

function say(text: string): void {
  $('#message').textContent = text;
}

// ---- login ----

$('#login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = new FormData(e.target as HTMLFormElement);
  localStorage.setItem(
    CREDS,
    JSON.stringify({
      deviceId: field(form, 'deviceId').trim(),
      token: field(form, 'token').trim(),
    }),
  );
  void start();
});

$('#disconnect').addEventListener('click', () => {
  socket?.disconnect();
  socket = null;
  localStorage.removeItem(CREDS);
  showLogin('');
});

function showLogin(message: string): void {
  $('#login').hidden = false;
  for (const id of ['#desk', '#offer', '#outcome']) $(id).hidden = true;
  $('#login-error').textContent = message;
  badge('stale', 'not connected');
}

async function loadCampaigns(c: Creds): Promise<void> {
  const res = await fetch('/api/v1/console/campaigns', { headers: { authorization: `Bearer ${c.token}` } });
  if (!res.ok)
    throw new Error(((await res.json()) as { error?: { message?: string } }).error?.message ?? 'refused');
  campaigns = ((await res.json()) as { campaigns: ConsoleCampaign[] }).campaigns;
  const sel = $('#campaign') as HTMLSelectElement;
  const keep = sel.value;
  sel.replaceChildren(...campaigns.map((k) => el('option', { value: k.id }, k.name)));
  if (keep) sel.value = keep;
}

// ---- the device ----

async function start(): Promise<void> {
  const c = creds();
  if (!c) {
    showLogin('');
    return;
  }
  try {
    await loadCampaigns(c);
  } catch (err) {
    localStorage.removeItem(CREDS);
    showLogin(err instanceof Error ? err.message : 'refused');
    return;
  }
  $('#login').hidden = true;
  $('#desk').hidden = false;
  $('#me').textContent = c.deviceId;
  socket?.disconnect();
  const s: Device = io('/agent', {
    transports: ['websocket'],
    // Read on every (re)connection: a held call is resumed by its lease id.
    auth: (cb) => {
      const call = heldCall();
      cb({ token: c.token, deviceId: c.deviceId, ...(call ? { leaseId: call.leaseId } : {}) });
    },
  });
  socket = s;
  s.on('connect', () => {
    badge('live', 'connected');
    void flushOutbox();
  });
  s.on('disconnect', () => badge('reconnecting', 'reconnecting…'));
  s.on('connect_error', (err) => {
    const code = (err as unknown as { data?: { code?: string } }).data?.code;
    if (code === 'UNAUTHENTICATED' || code === 'DEVICE_UNKNOWN') {
      s.disconnect();
      localStorage.removeItem(CREDS);
      showLogin(err.message);
    } else badge('reconnecting', 'reconnecting…');
  });
  s.on('agent:state', (st) => showState(st));
  s.on('call:offer', (o, ack) => {
    // Offers are not announced as agent:state: the offer itself is the change.
    ack({});
    holdCall(o);
    showState({ state: 'offered', since: Date.now(), campaignId: o.campaign.id });
    showOffer();
  });
  s.on('call:resumed', (r) => {
    const kept = heldCall();
    if (kept?.leaseId === r.leaseId) holdCall(kept);
    showState({ state: r.state, since: Date.now(), campaignId: r.campaign.id });
    showOffer();
  });
  s.on('call:revoked', (r) => {
    if (offer?.leaseId === r.leaseId && r.reason !== 'removed') {
      say(`The call was taken back (${r.reason.replace(/_/g, ' ')}).`);
      if (agentState?.state !== 'wrap_up') holdCall(null);
      showOffer();
    }
  });
  s.on('session:replaced', (r) => {
    say(r.reason === 'logged_out' ? 'A supervisor logged you out.' : 'This device connected elsewhere.');
    s.disconnect();
    badge('stale', 'logged out');
  });
}

function showState(st: AgentState): void {
  agentState = st;
  const node = $('#state');
  node.className = `big-state state-${st.state}`;
  const reason = st.state === 'paused' ? `: ${st.reason.replace(/_/g, ' ')}` : '';
  node.textContent = `${SYMBOLS[st.state]} ${LABELS[st.state]}${reason}`;
  $('#outcome').hidden = !(offer && ['on_call', 'wrap_up', 'dialing'].includes(st.state));
  ($('#accept') as HTMLButtonElement).disabled = st.state !== 'offered';
  $('#offer-actions').hidden = st.state !== 'offered';
}

function showOffer(): void {
  const o = offer;
  $('#offer').hidden = !o;
  if (!o) {
    $('#outcome').hidden = true;
    return;
  }
  $('#lead-name').textContent = o.lead.name || '(no name)';
  const phone = $('#lead-phone') as HTMLAnchorElement;
  phone.textContent = o.lead.phone;
  phone.href = `tel:${o.lead.phone}`;
  $('#lead-zone').textContent = o.lead.timeZone ? `(${o.lead.timeZone})` : '';
  $('#lead-attempts').textContent = `Attempts so far: ${o.lead.attempts}`;
  $('#lead-fields').replaceChildren(
    ...Object.entries(o.lead.fields ?? {}).flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, String(v))]),
  );
  const wa = $('#follow-up') as HTMLAnchorElement;
  wa.href = `https://wa.me/${o.lead.phone.replace(/\D/g, '')}`;
  wa.hidden = false;
  renderOutcomes(o.campaign.id);
  if (agentState) showState(agentState);
}

/** The campaign's own outcome codes (system codes and its additions), from its configuration. */
function renderOutcomes(campaignId: string): void {
  const c = campaigns.find((k) => k.id === campaignId);
  const box = $('#outcomes');
  box.replaceChildren(
    ...(c?.outcomes ?? []).map((o, i) =>
      el(
        'label',
        {},
        Object.assign(
          el('input', {
            type: 'radio',
            name: 'outcome',
            value: o.code,
            ...(i === 0 ? { required: '' } : {}),
          }),
          {
            onchange: () => {
              $('#callback').hidden = !o.callback;
            },
          },
        ),
        ` ${o.code.replace(/_/g, ' ')}`,
      ),
    ),
  );
}

// ---- commands ----

function send<E extends keyof AgentClientEvents>(
  event: E,
  payload: Parameters<AgentClientEvents[E]>[0],
): Promise<{ ok: boolean; state?: AgentState; error?: { code: string; message: string } }> {
  return new Promise((resolve) => {
    if (!socket?.connected) {
      resolve({ ok: false, error: { code: 'OFFLINE', message: 'not connected' } });
      return;
    }
    const emit = socket.timeout(10_000).emit.bind(socket) as unknown as (
      e: string,
      p: unknown,
      ack: (
        err: Error | null,
        res: { ok: boolean; state?: AgentState; error?: { code: string; message: string } },
      ) => void,
    ) => void;
    emit(event, payload, (err, res) =>
      resolve(err ? { ok: false, error: { code: 'TIMEOUT', message: 'no answer' } } : res),
    );
  });
}

async function command<E extends keyof AgentClientEvents>(
  event: E,
  payload: Parameters<AgentClientEvents[E]>[0],
): Promise<boolean> {
  const res = await send(event, payload);
  if (res.state) showState(res.state);
  say(res.ok ? '' : (res.error?.message ?? 'refused'));
  return res.ok;
}

$('#ready').addEventListener('click', () => {
  void command('agent:ready', { campaignId: ($('#campaign') as HTMLSelectElement).value });
});
$('#pause').addEventListener('click', () => {
  void command('agent:pause', { reason: ($('#pause-reason') as HTMLInputElement).value.trim() || 'break' });
});
$('#accept').addEventListener('click', () => {
  if (offer) void command('call:accept', { leaseId: offer.leaseId });
});
$('#reject').addEventListener('click', () => {
  if (!offer) return;
  const leaseId = offer.leaseId;
  void command('call:reject', { leaseId, reason: 'declined' }).then((ok) => {
    if (ok) {
      holdCall(null);
      showOffer();
    }
  });
});
for (const b of Array.from(document.querySelectorAll<HTMLButtonElement>('[data-status]'))) {
  b.addEventListener('click', () => {
    if (offer)
      void command('call:status', {
        leaseId: offer.leaseId,
        status: b.dataset.status as 'dialing' | 'ringing' | 'connected' | 'ended',
      });
  });
}

$('#outcome-form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (!offer) return;
  const form = new FormData(e.target as HTMLFormElement);
  const code = field(form, 'outcome');
  const policy = campaigns.find((k) => k.id === offer?.campaign.id)?.outcomes.find((o) => o.code === code);
  const notes = field(form, 'notes').trim();
  const tags = field(form, 'tags')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const at = field(form, 'callbackAt');
  const payload: CompletePayload = {
    leaseId: offer.leaseId,
    outcome: code,
    durationSec: Number(form.get('durationSec') ?? 0) || 0,
    ...(notes ? { notes } : {}),
    ...(tags.length ? { tags } : {}),
    ...(policy?.callback && at
      ? {
          callback: {
            at: new Date(at).getTime(),
            scope: form.get('scope') === 'anyone' ? 'anyone' : 'agent',
          },
        }
      : {}),
    ready: form.get('ready') === 'on',
  };
  void complete(payload).then(() => (e.target as HTMLFormElement).reset());
});

/** Kept in the outbox first; removed once the gateway acknowledged it saved. */
async function complete(payload: CompletePayload): Promise<void> {
  await outbox.put(payload);
  holdCall(null);
  showOffer();
  await flushOutbox();
}

async function flushOutbox(): Promise<void> {
  const pending = await outbox.all();
  for (const p of pending) {
    const res = await send('call:complete', p);
    if (
      res.ok ||
      (res.error && !['OFFLINE', 'TIMEOUT', 'UNAVAILABLE', 'RATE_LIMITED'].includes(res.error.code))
    ) {
      await outbox.remove(p.leaseId);
      if (res.state) showState(res.state);
      if (!res.ok) say(`Outcome refused: ${res.error?.message ?? ''}`);
    }
  }
  const left = (await outbox.all()).length;
  $('#outbox').textContent = left
    ? `${left} outcome(s) waiting to be sent — they go as soon as the connection returns.`
    : '';
}

offer = heldCall();
void start();
