// Who is calling the admin API, and what they may do. Every /api/v1 request (but /auth) carries
// one bearer credential, resolved once into a principal:
//   - the operator's bootstrap token (ADMIN_TOKEN): creates tenants and their first owner, and
//     nothing inside a tenant;
//   - a user's access token (log in at /api/v1/auth/login): their tenant and role;
//   - an API key (`dhk_...`, for a CRM): its tenant and role.
// Tenancy comes from the verified credential only: a route under /tenants/:tenantId answers a
// principal of another tenant FORBIDDEN before anything is read, whatever the role.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { AgentId, TenantId } from '../../engine/ids.js';
import type { Role } from '../auth/access-token.js';
import type { UserSessions } from '../auth/user-sessions.js';
import { GatewayError } from '../errors.js';
import { bearerOf } from './auth-routes.js';

export type Principal =
  | { readonly kind: 'operator' }
  | {
      readonly kind: 'user';
      readonly tenantId: TenantId;
      readonly userId: AgentId;
      readonly role: Role;
      readonly sessionId: string;
    }
  | { readonly kind: 'apiKey'; readonly tenantId: TenantId; readonly keyId: string; readonly role: Role };

export type TenantPrincipal = Exclude<Principal, { kind: 'operator' }>;

/** Resolves API keys (gateway/auth/api-keys.ts); absent until keys exist. */
export interface ApiKeyResolver {
  readonly prefix: string;
  resolve(key: string): Promise<{ tenantId: TenantId; keyId: string; role: Role }>;
}

const RANK: Record<Role, number> = { owner: 3, admin: 2, supervisor: 1, agent: 0 };

/** True when `role` may do what `needed` may. */
export const atLeast = (role: Role, needed: Role): boolean => RANK[role] >= RANK[needed];

/** Who the principal is, for the audit log: a user id, `key:<id>`, or `operator`. */
export function actorOf(p: Principal): string {
  switch (p.kind) {
    case 'operator':
      return 'operator';
    case 'user':
      return p.userId;
    case 'apiKey':
      return `key:${p.keyId}`;
    default: {
      const never: never = p;
      return never;
    }
  }
}

// Both sides hashed first: equal lengths for timingSafeEqual, same cost whatever was presented.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export interface AuthenticateOptions {
  readonly adminToken: string;
  readonly sessions: UserSessions;
  readonly apiKeys?: ApiKeyResolver;
}

/** Resolve the bearer credential into `res.locals.principal`, or answer UNAUTHENTICATED. */
export function authenticate(options: AuthenticateOptions): RequestHandler {
  if (options.adminToken.length < 24) throw new RangeError('admin token must be at least 24 characters');
  const operator = digest(options.adminToken);
  return (req, res, next) => {
    const token = bearerOf(req.headers.authorization);
    const isOperator = timingSafeEqual(digest(token ?? ''), operator);
    if (!token) {
      next(new GatewayError('UNAUTHENTICATED', 'the admin API needs Authorization: Bearer <token>'));
      return;
    }
    if (isOperator) {
      res.locals.principal = { kind: 'operator' } satisfies Principal;
      next();
      return;
    }
    const resolve = async (): Promise<Principal> => {
      if (options.apiKeys && token.startsWith(options.apiKeys.prefix)) {
        return { kind: 'apiKey', ...(await options.apiKeys.resolve(token)) };
      }
      const c = await options.sessions.authenticate(token);
      return { kind: 'user', tenantId: c.tenantId, userId: c.userId, role: c.role, sessionId: c.sessionId };
    };
    resolve().then(
      (principal) => {
        res.locals.principal = principal;
        next();
      },
      (err: unknown) => next(err),
    );
  };
}

export const principalOf = (res: Response): Principal => {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new GatewayError('UNAUTHENTICATED');
  return p;
};

/**
 * A user or API key of the route's tenant with at least `role`. Another tenant's principal, the
 * operator and a lesser role are all FORBIDDEN (checked before the body is read or a row touched).
 */
export function tenantPrincipal(req: Request, res: Response, role: Role): TenantPrincipal {
  const p = principalOf(res);
  const tenantId = req.params.tenantId;
  if (p.kind === 'operator') {
    throw new GatewayError('FORBIDDEN', 'the operator token only creates tenants and their first owner');
  }
  if (p.tenantId !== tenantId)
    throw new GatewayError('FORBIDDEN', 'this credential belongs to another tenant');
  if (!atLeast(p.role, role)) throw new GatewayError('FORBIDDEN', `this needs the ${role} role or higher`);
  return p;
}

/** Express middleware form of tenantPrincipal. */
export const requireRole =
  (role: Role): RequestHandler =>
  (req, res, next) => {
    tenantPrincipal(req, res, role);
    next();
  };

export const requireOperator: RequestHandler = (_req, res, next) => {
  if (principalOf(res).kind !== 'operator') {
    throw new GatewayError('FORBIDDEN', 'only the operator token may do this');
  }
  next();
};
