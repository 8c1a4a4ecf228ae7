--[[
  The device takes its offer: the lease becomes accepted and lives for the call TTL.

  KEYS[1] cfg          hash  campaign config (epoch, lseq)
  KEYS[2] leases       hash  lease counter -> lease record
  KEYS[3] leaseExpiry  zset  live lease counter -> expiry (ms)
  ARGV[1] lease epoch
  ARGV[2] lease counter
  ARGV[3] agent id ('' = any)
  ARGV[4] now (ms)
  ARGV[5] call TTL (ms)

  Returns { OK, expiry } or a negative status: an offer that already expired cannot be taken.
]]
--- @include "lease"

local epochOk = epochStatus(KEYS[1], ARGV[1])
if epochOk ~= ST_OK then
  return { epochOk }
end
local counter, agent, now, ttl = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local raw = redis.call('HGET', KEYS[2], counter)
if not raw then
  return { missingLease(KEYS[1], counter) }
end
local lease = splitLease(raw)
local state = lease[L_STATE]
if state == 'd' then
  return { ST_LEASE_STALE }
end
if agent ~= '' and lease[L_AGENT] ~= agent then
  return { ST_LEASE_NOT_OWNED }
end
if state == 'x' or tonumber(lease[L_AT]) <= now then
  return { ST_LEASE_EXPIRED }
end
local expires = int(now + ttl)
lease[L_STATE] = 'a'
lease[L_AT] = expires
redis.call('HSET', KEYS[2], counter, joinLease(lease))
redis.call('ZADD', KEYS[3], expires, counter)
return { ST_OK, expires }
