// The key that signs lease ids (engine/lease.ts), derived from the device-token secret every
// gateway of a deployment already shares, so a lease granted through one gateway is verified by
// any other, and by a gateway started after Redis lost the lease. A separate key (an HMAC of the
// secret with a fixed label), so a lease id MAC can never be confused with a token signature.
import { createHmac } from 'node:crypto';
import { createLeaseIds } from '../../engine/lease.js';
import type { LeaseIds } from '../../engine/lease.js';

export function leaseIdsFrom(deviceTokenSecret: string): LeaseIds {
  return createLeaseIds(createHmac('sha256', deviceTokenSecret).update('dialhub lease ids v1').digest());
}
