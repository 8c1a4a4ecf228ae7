// Refresh tokens: `<tenant>.<session>.<generation>.<mac>`, an HMAC (key derived from the server
// secret) over the first three parts. Nothing secret is stored: the session row keeps only its
// current generation (db/sessions.ts), so a database dump yields no usable token, and a token is
// checked for integrity before any query runs.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { TenantId } from '../../engine/ids.js';
import { tenantIdSchema } from '../../engine/ids.js';
import { sessionIdSchema } from '../../db/index.js';

export interface RefreshClaims {
  readonly tenantId: TenantId;
  readonly sessionId: string;
  readonly generation: number;
}

export interface RefreshTokens {
  sign(claims: RefreshClaims): string;
  /** The claims of a well-formed, correctly signed token; undefined otherwise. */
  parse(token: string): RefreshClaims | undefined;
}

const MAX_TOKEN_LENGTH = 256;

export function createRefreshTokens(serverSecret: string): RefreshTokens {
  const key = createHmac('sha256', serverSecret).update('dialhub refresh tokens v1').digest();
  const mac = (body: string) => createHmac('sha256', key).update(body).digest();
  return {
    sign({ tenantId, sessionId, generation }) {
      const body = `${tenantId}.${sessionId}.${generation}`;
      return `${body}.${mac(body).toString('base64url')}`;
    },
    parse(token) {
      if (token.length > MAX_TOKEN_LENGTH) return undefined;
      const parts = token.split('.');
      if (parts.length !== 4) return undefined;
      const [tenant, session, gen, sig] = parts as [string, string, string, string];
      const expected = mac(`${tenant}.${session}.${gen}`);
      const presented = Buffer.from(sig, 'base64url');
      if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
      const tenantId = tenantIdSchema.safeParse(tenant);
      const sessionId = sessionIdSchema.safeParse(session);
      if (!tenantId.success || !sessionId.success || !/^(0|[1-9]\d{0,8})$/.test(gen)) return undefined;
      return { tenantId: tenantId.data, sessionId: sessionId.data, generation: Number(gen) };
    },
  };
}
