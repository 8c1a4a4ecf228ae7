--[[
  Claim the completion of a lease this queue does not know: one issued in an earlier epoch whose
  record Redis lost (its keys were deleted and rebuilt, or it went back in time). The gateway has
  verified the lease id's MAC (the lease was granted to this agent for this lead) and found the
  lead still queued in the system of record. The lead is found by its number; if it is under a
  live lease (leased again since) the newer lease stands and the completion is stale. Otherwise
  the lead leaves the queue and the lease is recorded as claimed under "<epoch>:<counter>", so the
  rest of the completion (commit, apply) is the same as for any claimed lease.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] hold the claimed lease until now + this (ms)
  ARGV[4] number of completions N, then N groups of 9: epoch, counter, lead id, phone digits,
          agent id, device id, outcome code, callback due (ms, '' = none), callback scope,
  ARGV[...] then N completion times (ms, '' = now)

  Returns 3 fields per completion as claimLeases does.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "completion"
--- @include "run"

local base, now, hold, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local times = 5 + count * 9 -- ARGV[times + n]: completion n's time (n from 0)
local current = hget(K.cfg, 'epoch')
--[[
  The run is checked, as a lease checks it: a queue that went back in time (Redis restarted from
  an older copy) and that no script has noticed yet adopts nothing until it is rebuilt. The lease
  being adopted was issued after that copy, so its counter is one the rebuilt queue issues again
  (its counter went back too); adopted here, under the current epoch, the claim would be kept by
  the rebuild under that bare counter and overwritten by the new lease: the outcome never
  applied, its lead in no queue. After the rebuild the lease's epoch is an old one, and the claim
  is kept under "<epoch>:<counter>". (A claim of a lease the older copy knows is safe: its counter
  is below every one issued again.)
]]
local runStale = current and checkRun(K.cfg) ~= ST_OK

local function adoptOne(n, epoch, counter, leadId, phone, agent, device, outcome, cbAt, cbScope)
  if not current then
    return ST_CAMPAIGN_UNKNOWN
  end
  if runStale or rebuilding(K) then
    return ST_CAMPAIGN_STALE
  end
  local at = now
  if ARGV[times + n] ~= '' then
    at = tonumber(ARGV[times + n])
  end
  -- Adopted already (a retry), or known after all: a normal claim.
  local status, lease, field = findLease(K.cfg, K.leases, epoch, counter, agent)
  if status == ST_OK then
    if lease[L_STATE] == 'd' then
      return ST_DUPLICATE, lease[L_RESULT]
    end
    if not completable(lease[L_STATE]) then
      return ST_LEASE_STALE
    end
    local result, dncPhone
    status, result, dncPhone = decideCompletion(base, K, lease, field, outcome, cbAt, cbScope, at, now)
    if status == ST_OK then
      claim(base, K, lease, field, result, now + hold)
    end
    return status, result, dncPhone
  end
  if status ~= ST_LEASE_UNKNOWN then
    return status
  end
  local member = hget(phoneKey(base, phone), phone)
  if not member then
    return ST_LEASE_UNKNOWN -- the lead is not in this queue (yet: a rebuild may be under way)
  end
  local rec = splitRecord(record(base, member))
  if rec[R_ID] ~= leadId then
    return ST_LEASE_UNKNOWN
  end
  local previous = currentLease(K, member)
  if previous then
    local prev = hget(K.leases, previous)
    if prev and LIVE[string.sub(prev, 1, 1)] then
      return ST_LEASE_STALE -- leased again since: the newer lease stands
    end
  end
  field = epoch .. ':' .. counter
  if epoch == current then
    field = counter
  end
  lease = { 'x', member, agent, device, int(now), '', epoch, '' }
  hset(K.leaseOf, member, field)
  local result, dncPhone
  status, result, dncPhone = decideCompletion(base, K, lease, field, outcome, cbAt, cbScope, at, now)
  if status ~= ST_OK then
    if previous then
      hset(K.leaseOf, member, previous)
    else
      hdel(K.leaseOf, member)
    end
    return status
  end
  if previous then
    hdel(K.leases, previous)
    zrem(K.leaseExpiry, previous)
  end
  claim(base, K, lease, field, result, now + hold)
  return ST_OK, result, dncPhone
end

local reply = {}
for n = 0, count - 1 do
  local a = 5 + n * 9
  local status, result, dncPhone = adoptOne(n, ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
    ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8])
  reply[#reply + 1] = status
  reply[#reply + 1] = result or ''
  reply[#reply + 1] = dncPhone or ''
end
flush()
return reply
