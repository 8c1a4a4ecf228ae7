--[[
  Decide outcomes of leases, fenced by lease id, and either claim them (the gateway then commits
  the decided outcomes to the system of record and applies them with applyLeases) or, in direct
  mode, apply them at once (callers with no system of record to commit to: the engine's own
  tests and benchmarks).

  A live lease completes normally; so does one that expired but whose lead has not been leased
  again (the call really happened: the lead leaves the ready queue again, marked late), and one
  revoked because its number was removed mid-call (the call happened; the lead stays out). A
  claim names the decision it made; a repeated claim (the device retried, maybe through another
  gateway) decides again and holds the lease longer. A stale lease id never touches a newer
  lease. Completing a done lease again returns its first result and changes nothing. Items are
  handled in order, each seeing the ones before it; writes go out together at the end.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] mode: 'claim' or 'direct'
  ARGV[4] claim: hold the claimed lease until now + this (ms); direct: done-lease retention (ms)
  ARGV[5] number of completions N, then N groups of 7: epoch, counter, agent id ('' = any),
          outcome code, callback due (ms, '' = none), callback scope ('agent' | 'anyone'),
          completion time the disposition is computed from (ms, '' = now)

  Returns 3 fields per completion: status (OK, DUPLICATE or negative), result
  "<outcome>|<attempts>|<disposition>|<lead id>|<late 0/1>", and the phone digits when the
  outcome adds the number to the do-not-call list ('' otherwise).
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "completion"

local base, now, direct = ARGV[1], tonumber(ARGV[2]), ARGV[3] == 'direct'
local span, count = tonumber(ARGV[4]), tonumber(ARGV[5])

-- Prefetch what the items will read: their leases, then those leases' leads.
local counters = {}
for n = 0, count - 1 do
  counters[#counters + 1] = ARGV[7 + n * 7]
end
hprefetch(K.leases, counters)
local members = {}
for _, c in ipairs(counters) do
  local raw = hget(K.leases, c)
  if raw then
    members[#members + 1] = string.match(raw, LEASE_MEMBER_PATTERN)
  end
end
prefetchRecords(base, members)
hprefetch(K.leaseOf, members)

local function completeOne(epoch, counter, agent, outcome, cbAt, cbScope, at)
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
  local result, dncPhone, rec
  status, result, dncPhone, rec = decideCompletion(base, K, lease, field, outcome, cbAt, cbScope, at, now)
  if status ~= ST_OK then
    return status
  end
  if direct then
    applyResult(base, K, lease, field, result, now, span, rec)
  else
    claim(base, K, lease, field, result, now + span)
  end
  return ST_OK, result, dncPhone
end

local reply = {}
for n = 0, count - 1 do
  local a = 6 + n * 7
  local at = now
  if ARGV[a + 6] ~= '' then
    at = tonumber(ARGV[a + 6])
  end
  local status, result, dncPhone =
    completeOne(ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5], at)
  reply[#reply + 1] = status
  reply[#reply + 1] = result or ''
  reply[#reply + 1] = dncPhone or ''
end
flush()
return reply
