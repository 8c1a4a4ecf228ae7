// Configuration: parsed once, every problem named; the Socket.IO heartbeat always notices a
// silent device within half a lease lifetime, so heartbeats never keep a frozen phone's call.
import { describe, expect, it } from 'vitest';
import { ConfigError, heartbeat, loadConfig } from '../../gateway/config.js';

describe('config', () => {
  it('uses a 10 s ping and 8 s timeout with the default 90 s call lease', () => {
    const c = loadConfig({});
    expect(heartbeat(c)).toEqual({ pingIntervalMs: 10_000, pingTimeoutMs: 8_000 });
  });

  it('shortens the heartbeat for a short call lease, so detection stays inside half of it', () => {
    const c = loadConfig({ CALL_TTL_MS: '6000', LEASE_HEARTBEAT_MS: '2000', RECONNECT_GRACE_MS: '4000' });
    const { pingIntervalMs, pingTimeoutMs } = heartbeat(c);
    expect(pingIntervalMs + pingTimeoutMs).toBeLessThanOrEqual(3_000);
  });

  it('takes an explicit heartbeat and refuses one slower than half a call lease, naming the variable', () => {
    expect(heartbeat(loadConfig({ PING_INTERVAL_MS: '2000', PING_TIMEOUT_MS: '1500' }))).toEqual({
      pingIntervalMs: 2_000,
      pingTimeoutMs: 1_500,
    });
    try {
      loadConfig({
        CALL_TTL_MS: '20000',
        LEASE_HEARTBEAT_MS: '5000',
        RECONNECT_GRACE_MS: '5000',
        PING_INTERVAL_MS: '9000',
        PING_TIMEOUT_MS: '5000',
      });
      expect.unreachable('a heartbeat slower than half the call lease was accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual([
        'PING_INTERVAL_MS: PING_INTERVAL_MS + PING_TIMEOUT_MS must be at most half of CALL_TTL_MS',
      ]);
    }
  });
});
