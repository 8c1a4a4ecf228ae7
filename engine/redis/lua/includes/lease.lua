--- @include "lead"
--- @include "status"
--- @include "stage"
--[[
  Lease records, mirroring LeaseRecord in engine/lease.ts:
  state (o offered, a accepted, x expired and requeued, d done), member, agent, device,
  time (expiry for o/a, requeue time for x, completion time for d), result (d only).
]]
local L_STATE, L_MEMBER, L_AGENT, L_DEVICE, L_AT, L_RESULT = 1, 2, 3, 4, 5, 6

local function splitLease(s)
  local t = {}
  local i = 1
  for n = 1, 5 do
    local j = string.find(s, SEP, i, true)
    t[n] = string.sub(s, i, j - 1)
    i = j + 1
  end
  t[6] = string.sub(s, i)
  return t
end

local function joinLease(t)
  return table.concat(t, SEP, 1, 6)
end

-- Status of a lease counter that has no record: issued once (stale) or never issued (unknown).
local function missingLease(cfgKey, counter)
  local issued = tonumber(hget(cfgKey, 'lseq') or '0')
  if tonumber(counter) <= issued then
    return ST_LEASE_STALE
  end
  return ST_LEASE_UNKNOWN
end

-- Status of a lease id's epoch: ids from an earlier incarnation of the queue are unknown here.
local function epochStatus(cfgKey, epoch)
  local current = hget(cfgKey, 'epoch')
  if not current then
    return ST_CAMPAIGN_UNKNOWN
  end
  if current ~= epoch then
    return ST_LEASE_UNKNOWN
  end
  return ST_OK
end

--[[
  The lease a lease operation names, or why it cannot have it: the id's epoch is another
  queue's (unknown), the counter was never issued (unknown) or no longer has a record (stale),
  or the lease is someone else's (not owned). Every lease operation checks in this order, then
  judges the lease's state itself. Returns status, lease (split) or nil.
]]
local function findLease(cfgKey, leasesKey, epoch, counter, agent)
  local status = epochStatus(cfgKey, epoch)
  if status ~= ST_OK then
    return status, nil
  end
  local raw = hget(leasesKey, counter)
  if not raw then
    return missingLease(cfgKey, counter), nil
  end
  local lease = splitLease(raw)
  if agent ~= '' and lease[L_AGENT] ~= agent then
    return ST_LEASE_NOT_OWNED, nil
  end
  return ST_OK, lease
end
