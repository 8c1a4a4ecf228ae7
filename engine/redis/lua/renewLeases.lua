--[[
  Accept offered leases (the device takes its call), extend accepted ones (heartbeat while the
  device is connected), record how far a call got (phase), or expire live ones now (a device
  gone past its grace period: the next reclaim puts the lead back and keeps the lease as an
  expired tombstone, so the late completion of a call that really happened is still accepted).
  Accepted, extended and advanced leases live for `ttl` from now.

  Accepting re-checks the lead's calling window: an offer made at 20:59:59 is not dialled at
  21:00:01. Accepting starts a call, recorded in the number's history when calling rules limit
  its zone (includes/rules.lua). An offer accepted outside its window is withdrawn (the lead goes
  back to the head of its priority, no attempt counted) and the device told OUTSIDE_CALLING_WINDOW. An expired lease
  cannot be taken or kept; a heartbeat does not accept an offer (the device must); a claimed
  lease (its outcome is being committed) is left as it is; a phase only moves forward
  (a dialling → n on the call → w ended). Items apply in order; writes go out together.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] mode: 'accept', 'extend', 'expire' or 'phase'
  ARGV[3] now (ms)
  ARGV[4] TTL (ms)
  ARGV[5] number of leases N, then N groups of 4: epoch, counter, agent id ('' = any),
          phase for mode 'phase' ('n' on the call, 'w' ended; '' otherwise)

  Returns one status per lease followed by its expiry (0 on failure), flattened.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, mode = ARGV[1], ARGV[2]
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local expires = int(now + ttl)
if mode == 'expire' then
  expires = int(now)
end
local count = tonumber(ARGV[5])
local counters = {}
for n = 0, count - 1 do
  counters[#counters + 1] = ARGV[7 + n * 4]
end
hprefetch(K.leases, counters)
local open = nil

local PHASE_RANK = { a = 1, n = 2, w = 3 }

local function renewOne(epoch, counter, agent, phase)
  local status, lease, field = findLease(K.cfg, K.leases, epoch, counter, agent)
  if status ~= ST_OK then
    return status, 0
  end
  local state = lease[L_STATE]
  if state == 'c' then
    if mode == 'accept' then
      return ST_LEASE_STALE, 0
    end
    return ST_OK, tonumber(lease[L_AT]) -- being completed: left as it is
  end
  if state == 'x' then
    return ST_LEASE_EXPIRED, 0
  end
  if not LIVE[state] then
    return ST_LEASE_STALE, 0
  end
  if tonumber(lease[L_AT]) <= now then
    return ST_LEASE_EXPIRED, 0
  end
  if mode == 'accept' then
    if state == 'o' then
      local member = lease[L_MEMBER]
      local rec = splitRecord(record(base, member))
      if open == nil then
        open = openZoneSet(K.windows, now)
      end
      if not open[rec[R_ZONE]] then
        requeueHead(base, K, rec, member)
        hdel(K.leases, field)
        unlinkLease(K, member, field)
        releaseLive(K, field)
        return ST_OUTSIDE_CALLING_WINDOW, 0
      end
      lease[L_STATE] = 'a'
      recordCall(base, rec, now) -- the call is dialled: it counts for the calling rules
    end
  elseif mode == 'extend' then
    if state == 'o' then
      return ST_LEASE_NOT_ACCEPTED, 0
    end
  elseif mode == 'phase' then
    if state == 'o' then
      return ST_LEASE_NOT_ACCEPTED, 0
    end
    if PHASE_RANK[phase] and PHASE_RANK[phase] > PHASE_RANK[state] then
      lease[L_STATE] = phase
    end
  end
  lease[L_AT] = expires
  hset(K.leases, field, joinLease(lease))
  zadd(K.leaseExpiry, expires, field)
  return ST_OK, tonumber(expires)
end

local reply = {}
for n = 0, count - 1 do
  local a = 6 + n * 4
  local status, at = renewOne(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
  reply[#reply + 1] = status
  reply[#reply + 1] = at
end
flush()
return reply
