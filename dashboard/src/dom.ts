// Small DOM helpers and the words and symbols for agent states (colour is never the only signal).
import type { AgentStateName } from '../../gateway/supervisor/protocol.js';

export function $(selector: string): HTMLElement {
  const node = document.querySelector<HTMLElement>(selector);
  if (!node) throw new Error(`missing ${selector}`);
  return node;
}

export function el(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export const LABELS: Readonly<Record<AgentStateName, string>> = {
  ready: 'ready',
  offered: 'offered',
  dialing: 'dialing',
  on_call: 'on call',
  wrap_up: 'wrap-up',
  paused: 'paused',
  offline: 'offline',
};

export const SYMBOLS: Readonly<Record<AgentStateName, string>> = {
  ready: '●',
  offered: '◔',
  dialing: '↗',
  on_call: '☎',
  wrap_up: '✎',
  paused: '‖',
  offline: '○',
};

/** Display order: working states first. */
export const STATE_ORDER: Readonly<Record<AgentStateName, number>> = {
  on_call: 0,
  dialing: 1,
  offered: 2,
  wrap_up: 3,
  ready: 4,
  paused: 5,
  offline: 6,
};

export const STATE_ORDER_LIST = Object.keys(STATE_ORDER) as AgentStateName[];

/** m:ss or h:mm:ss of a number of seconds. */
export function duration(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${r}` : `${m}:${r}`;
}

/** hh:mm:ss of an instant in a time zone (the tenant's). */
export function clock(at: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).format(at);
}

/** A text field of a submitted form ('' when absent). */
export function field(form: FormData, name: string): string {
  const v = form.get(name);
  return typeof v === 'string' ? v : '';
}
