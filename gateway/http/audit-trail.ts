// The audit log of admin actions: who (user, API key or operator), what (a dotted action and its
// subject id), when (the database's clock) and from where (the client address). Written after the
// action succeeded; ids only, never phone numbers, names or secrets.
import type { Request, Response } from 'express';
import type { Database } from '../../db/index.js';
import { actorOf, principalOf } from './access.js';

export type Audit = (
  req: Request,
  res: Response,
  action: string,
  subject: string,
  details?: Record<string, unknown>,
) => Promise<void>;

export function auditTrail(db: Database): Audit {
  return async (req, res, action, subject, details = {}) => {
    const tenantId = req.params.tenantId;
    if (typeof tenantId !== 'string') return;
    await db.audit.append({
      tenantId,
      actor: actorOf(principalOf(res)),
      action,
      subject,
      details: { ...details, ip: req.ip ?? null },
    });
  };
}
