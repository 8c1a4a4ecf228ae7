// Which browser origins may open a Socket.IO connection. CORS does not protect WebSockets (a
// browser opens a WebSocket to any host and sends its page's Origin), so the handshake checks the
// Origin itself. Secure by default: with no ALLOWED_ORIGINS, a browser page is let in only from the
// gateway's own origin (the dashboard and agent console it serves); ALLOWED_ORIGINS adds others.
// A client that sends no Origin is not a browser page (a phone app, a CLI, a server): its token is
// what admits it.

/**
 * Whether a handshake's Origin is acceptable. `host` is the Host header the client connected
 * with (what a same-origin page's Origin names); `allowed` is ALLOWED_ORIGINS, exact origins.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[] | undefined,
): boolean {
  if (origin === undefined) return true;
  if (allowed?.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin); // "null" (sandboxed frames, file://) is refused here
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return host !== undefined && url.host === host.toLowerCase();
}
