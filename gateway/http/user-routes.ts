// /api/v1/tenants/:tenantId/users: the people of a tenant. The operator creates a tenant's first
// owner and nothing else; owners manage everyone; admins manage everyone but owners and may not
// make anyone an owner. A tenant always keeps one owner. Deleting a user (or changing their
// password or role) ends their sessions.
import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { agentIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { emailSchema, USER_ROLES } from '../../db/index.js';
import type { Database, User } from '../../db/index.js';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../auth/passwords.js';
import { GatewayError } from '../errors.js';
import { atLeast, principalOf, tenantPrincipal } from './access.js';
import type { Audit } from './audit-trail.js';

const tenantParams = z.object({ tenantId: tenantIdSchema });
const userParams = tenantParams.extend({ userId: agentIdSchema });

const passwordSchema = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(MAX_PASSWORD_LENGTH);

export const newUserBodySchema = z.strictObject({
  id: agentIdSchema,
  name: z.string().trim().min(1).max(200),
  role: z.enum(USER_ROLES),
  email: emailSchema.optional(),
  password: passwordSchema.optional(),
});

export const userPatchBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    role: z.enum(USER_ROLES).optional(),
    email: emailSchema.nullable().optional(),
    password: passwordSchema.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const pageQuerySchema = z.object({
  after: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

const userListQuerySchema = pageQuerySchema.extend({ role: z.enum(USER_ROLES).optional() });

export const userView = (u: User) => ({
  id: u.id,
  name: u.name,
  role: u.role,
  email: u.email,
  createdAt: new Date(u.createdAt).toISOString(),
  updatedAt: new Date(u.updatedAt).toISOString(),
});

export interface UserRouteHooks {
  /** A user's sessions ended (deleted, password or role changed): disconnect what they hold. */
  readonly onUserSessionsEnded?: (tenantId: string, userId: string) => Promise<void> | void;
}

export function userRoutes(db: Database, audit: Audit, hooks: UserRouteHooks = {}): Router {
  const router = Router({ mergeParams: true });

  /** The acting principal may manage a user of `role` (owners: only another owner may). */
  function mayManage(req: Request, res: Response, role: z.infer<typeof newUserBodySchema>['role']) {
    const p = tenantPrincipal(req, res, 'admin');
    if (role === 'owner' && !atLeast(p.role, 'owner')) {
      throw new GatewayError('FORBIDDEN', 'only an owner may manage owners');
    }
    return p;
  }

  async function endSessions(tenantId: string, userId: string): Promise<void> {
    await db.sessions.revokeForUser(tenantId, userId, 'admin');
    await hooks.onUserSessionsEnded?.(tenantId, userId);
  }

  router.post('/', async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const principal = principalOf(res);
    const body = newUserBodySchema.parse(req.body);
    if (principal.kind === 'operator') {
      // The bootstrap: the first owner of a tenant the operator created.
      if (body.role !== 'owner') throw new GatewayError('FORBIDDEN', 'the operator creates owners only');
      if (!(await db.tenants.get(tenantId))) throw new GatewayError('NOT_FOUND', 'no such tenant');
      if ((await db.users.countByRole(tenantId, 'owner')) > 0) {
        throw new GatewayError('FORBIDDEN', 'this tenant has an owner: its users manage it now');
      }
    } else {
      mayManage(req, res, body.role);
    }
    if ((body.password === undefined) !== (body.email === undefined)) {
      throw new GatewayError('INPUT_INVALID', 'a user who logs in needs both email and password');
    }
    const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
    const user = await db.users.create({
      tenantId,
      id: body.id,
      name: body.name,
      role: body.role,
      ...(body.email === undefined ? {} : { email: body.email }),
      ...(passwordHash === undefined ? {} : { passwordHash }),
    });
    await audit(req, res, 'user.create', user.id, { role: user.role });
    res.status(201).json({ user: userView(user) });
  });

  router.get('/', async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const q = userListQuerySchema.parse(req.query);
    const page = await db.users.list(tenantId, { limit: q.limit, after: q.after, role: q.role });
    res.json({ items: page.items.map(userView), next: page.next });
  });

  router.get('/:userId', async (req, res) => {
    const { tenantId, userId } = userParams.parse(req.params);
    const p = tenantPrincipal(req, res, 'agent');
    // Everyone may read themselves; reading others takes an admin.
    if (!(p.kind === 'user' && p.userId === userId)) tenantPrincipal(req, res, 'admin');
    const user = await db.users.get(tenantId, userId);
    if (!user) throw new GatewayError('NOT_FOUND', 'no such user in this tenant');
    res.json({ user: userView(user) });
  });

  router.patch('/:userId', async (req, res) => {
    const { tenantId, userId } = userParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const body = userPatchBodySchema.parse(req.body);
    const user = await db.users.get(tenantId, userId);
    if (!user) throw new GatewayError('NOT_FOUND', 'no such user in this tenant');
    mayManage(req, res, user.role);
    if (body.role !== undefined) mayManage(req, res, body.role);
    if (user.role === 'owner' && body.role !== undefined && body.role !== 'owner') {
      if ((await db.users.countByRole(tenantId, 'owner')) <= 1) {
        throw new GatewayError('CONFLICT', 'a tenant keeps at least one owner');
      }
    }
    const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
    const updated = await db.users.update(tenantId, userId, {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.role === undefined ? {} : { role: body.role }),
      ...(body.email === undefined ? {} : { email: body.email }),
      ...(passwordHash === undefined ? {} : { passwordHash }),
    });
    if (passwordHash !== undefined || (body.role !== undefined && body.role !== user.role)) {
      await endSessions(tenantId, userId);
    }
    await audit(req, res, 'user.update', userId, { fields: Object.keys(body).sort() });
    res.json({ user: userView(updated) });
  });

  router.delete('/:userId', async (req, res) => {
    const { tenantId, userId } = userParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const user = await db.users.get(tenantId, userId);
    if (!user) throw new GatewayError('NOT_FOUND', 'no such user in this tenant');
    mayManage(req, res, user.role);
    if (user.role === 'owner' && (await db.users.countByRole(tenantId, 'owner')) <= 1) {
      throw new GatewayError('CONFLICT', 'a tenant keeps at least one owner');
    }
    await db.users.remove(tenantId, userId);
    await hooks.onUserSessionsEnded?.(tenantId, userId);
    await audit(req, res, 'user.delete', userId, { role: user.role });
    res.status(204).end();
  });

  return router;
}
