--[[
  Accept offered leases (the device takes its call), extend accepted ones (heartbeat while the
  device is connected), or expire live ones now (a device gone past its grace period: the next
  reclaim puts the lead back and keeps the lease as an expired tombstone, so the late completion
  of a call that really happened is still accepted). Accepted and extended leases live for `ttl`
  from now. An expired lease cannot be taken or kept; a heartbeat does not accept an offer (the
  device must). Items apply in order; writes go out together.

  KEYS[1] cfg          hash  campaign config (epoch, lseq)
  KEYS[2] leases       hash  lease counter -> lease record
  KEYS[3] leaseExpiry  zset  live lease counter -> expiry (ms)
  ARGV[1] mode: 'accept', 'extend' or 'expire'
  ARGV[2] now (ms)
  ARGV[3] TTL (ms)
  ARGV[4] number of leases N, then N triples: epoch, counter, agent id ('' = any)

  Returns one status per lease followed by the new expiry (0 on failure), flattened.
]]
--- @include "lease"

local mode = ARGV[1]
local now, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local expires = int(now + ttl)
if mode == 'expire' then
  expires = int(now)
end
local count = tonumber(ARGV[4])
local counters = {}
for n = 0, count - 1 do
  counters[#counters + 1] = ARGV[6 + n * 3]
end
hprefetch(KEYS[2], counters)

local reply = {}
for n = 0, count - 1 do
  local epoch, counter, agent = ARGV[5 + n * 3], ARGV[6 + n * 3], ARGV[7 + n * 3]
  local status, lease = findLease(KEYS[1], KEYS[2], epoch, counter, agent)
  if status == ST_OK then
    local state = lease[L_STATE]
    if state == 'd' then
      status = ST_LEASE_STALE
    elseif state == 'x' or tonumber(lease[L_AT]) <= now then
      status = ST_LEASE_EXPIRED
    elseif state == 'o' and mode == 'extend' then
      status = ST_LEASE_NOT_ACCEPTED
    else
      if mode ~= 'expire' then
        lease[L_STATE] = 'a'
      end
      lease[L_AT] = expires
      hset(KEYS[2], counter, joinLease(lease))
      zadd(KEYS[3], expires, counter)
    end
  end
  reply[#reply + 1] = status
  reply[#reply + 1] = status == ST_OK and expires or 0
end
flush()
return reply
