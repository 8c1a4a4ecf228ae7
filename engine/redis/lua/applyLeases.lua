--[[
  Apply completions whose outcome the system of record has committed: the lead goes where the
  committed disposition says. The decision is not made again: the fence is re-checked (the
  lease must still be this lead's) and the committed result written. A claimed lease (c) is the
  normal case; a live or expired-and-requeued lease is applied too (its outcome was committed
  by a process whose claim Redis lost, found by the reaper in the system of record). Applying a
  done lease again changes nothing and returns its result.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] how long a done lease is remembered for duplicate detection (ms)
  ARGV[4] number of completions N, then N groups of 4: epoch, counter, agent id ('' = any),
          committed result "<outcome>|<attempts>|<disposition>|<lead id>|<late 0/1>"

  Returns 2 fields per completion: status (OK, DUPLICATE or negative), the result now on the
  lease.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "completion"

local base, now, retention, count = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

local counters = {}
for n = 0, count - 1 do
  counters[#counters + 1] = ARGV[6 + n * 4]
end
hprefetch(K.leases, counters)

local function applyOne(epoch, counter, agent, result)
  if rebuilding(K) then
    return ST_CAMPAIGN_STALE
  end
  local status, lease, field = findLease(K.cfg, K.leases, epoch, counter, agent)
  if status ~= ST_OK then
    return status
  end
  local state = lease[L_STATE]
  if state == 'd' then
    return ST_DUPLICATE, lease[L_RESULT]
  end
  if not completable(state) then
    return ST_LEASE_STALE
  end
  local member = lease[L_MEMBER]
  if not record(base, member) then
    return ST_LEASE_STALE
  end
  if state == 'x' and hget(K.leaseOf, member) ~= field then
    return ST_LEASE_STALE -- requeued and leased again: the newer lease stands
  end
  applyResult(base, K, lease, field, result, now, retention)
  return ST_OK, result
end

local reply = {}
for n = 0, count - 1 do
  local a = 5 + n * 4
  local status, result = applyOne(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3])
  reply[#reply + 1] = status
  reply[#reply + 1] = result or ''
end
flush()
return reply
