// The admin API's guard: `Authorization: Bearer <admin token>`, compared in constant time.
//
// Until the identity issue lands, this one shared token is the seam where real users plug in:
// replace this middleware with one that resolves a user (session or API key), checks their role,
// and sets the tenant they may act for, and the routes behind it stay as they are (each is
// already scoped by its :tenantId and passes it to every repository call).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { GatewayError } from '../errors.js';

// Both sides are hashed first, so the comparison takes the same time whatever the presented
// token's length, and timingSafeEqual always gets equal-length inputs.
const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

const BEARER = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i;

export function requireAdminToken(adminToken: string): RequestHandler {
  if (adminToken.length < 24) throw new RangeError('admin token must be at least 24 characters');
  const expected = digest(adminToken);
  return (req, _res, next) => {
    const match = BEARER.exec(req.headers.authorization ?? '');
    const presented = digest(match?.[1] ?? '');
    // Evaluate the comparison even without a match, so both paths cost the same.
    const equal = timingSafeEqual(presented, expected);
    if (match && equal) {
      next();
      return;
    }
    next(new GatewayError('UNAUTHENTICATED', 'admin API needs Authorization: Bearer <admin token>'));
  };
}
