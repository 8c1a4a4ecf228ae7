--[[
  Record outcomes, fenced by lease id, and apply the campaign's disposition policy to each lead.
  The caller has already committed the outcomes to the system of record; this moves the leads.

  A live lease completes normally; so does one that expired but whose lead has not been leased
  again (the call really happened: the lead leaves the ready queue again). A stale lease id
  (rejected, superseded, purged) never touches the newer lease. Completing a done lease again
  returns its first result and changes nothing. Items are applied in order, each seeing the
  ones before it; all writes go out together at the end (stage.lua).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] how long a done lease is remembered for duplicate detection (ms)
  ARGV[4] mode: 'apply', or 'check' to run every check and decision and write nothing (the
          gateway learns the disposition it must commit to Postgres before applying it here)
  ARGV[5] number of completions N, then N groups of 7: epoch, counter, agent id ('' = any),
          outcome code, callback due (ms, '' = none), callback scope ('agent' | 'anyone'),
          completion time the disposition is computed from (ms, '' = now)

  Returns 3 fields per completion: status (OK, DUPLICATE or negative), result
  "<outcome>|<attempts>|<disposition>|<lead id>|<late 0/1>", and the phone digits when the
  outcome adds the number to the do-not-call list ('' otherwise).
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"
--- @include "disposition"

local base, now, retention, apply = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4] == 'apply'
local count = tonumber(ARGV[5])

-- Prefetch what the items will read: their leases, then those leases' leads and agents.
local counters = {}
for n = 0, count - 1 do
  counters[#counters + 1] = ARGV[7 + n * 7]
end
hprefetch(K.leases, counters)
local members, agents = {}, {}
for _, c in ipairs(counters) do
  local raw = hget(K.leases, c)
  if raw then
    local l = splitLease(raw)
    members[#members + 1] = l[L_MEMBER]
    agents[#agents + 1] = l[L_AGENT]
  end
end
prefetchRecords(base, members)
if apply then
  hprefetch(K.agentLeases, agents)
end

local policies = {}
local function policyOf(outcome)
  local p = policies[outcome]
  if p == nil then
    local raw = hget(K.cfg, 'o:' .. outcome)
    p = raw and splitPolicy(raw) or false
    policies[outcome] = p
  end
  return p
end

local function completeOne(epoch, counter, agent, outcome, cbAt, cbScope, at)
  local status, lease = findLease(K.cfg, K.leases, epoch, counter, agent)
  if status ~= ST_OK then
    return status
  end
  if lease[L_STATE] == 'd' then
    return ST_DUPLICATE, lease[L_RESULT]
  end
  local policy = policyOf(outcome)
  if not policy then
    return ST_OUTCOME_UNKNOWN
  end
  if policy.callback and cbAt == '' then
    return ST_CALLBACK_REQUIRED
  end
  if not policy.callback and cbAt ~= '' then
    return ST_CALLBACK_INVALID
  end
  local member = lease[L_MEMBER]
  local recRaw = record(base, member)
  if not recRaw then
    return ST_LEASE_STALE -- the lead left the queue (removed or rebuilt) since
  end
  local rec = splitRecord(recRaw)
  local late = 0
  if lease[L_STATE] == 'x' then
    if hget(K.leaseOf, member) ~= counter then
      return ST_LEASE_STALE
    end
    late = 1
  elseif tonumber(lease[L_AT]) <= now then
    late = 1
  end

  local attempts = tonumber(rec[R_ATTEMPTS]) + 1
  local kind, due, pinTo = decide(policy, attempts, at, lease[L_AGENT], cbAt, cbScope)
  local dncPhone = ''
  if kind == 'dnc' then
    dncPhone = rec[R_PHONE]
  end
  local result = outcome .. '|' .. int(attempts) .. '|' .. encodeDecision(kind, due, pinTo) .. '|' .. rec[R_ID] .. '|' .. late
  if not apply then
    return ST_OK, result, dncPhone
  end

  if lease[L_STATE] == 'x' then
    unqueue(base, K, rec, member)
  else
    releaseLive(K, counter, lease[L_AGENT])
  end
  hdel(K.leaseOf, member)
  if kind == 'retry' or kind == 'callback' then
    rec[R_ATTEMPTS] = int(attempts)
    rec[R_PINNED] = pinTo
    hset(recordKey(base, member), member, joinRecord(rec))
    place(base, K, rec, member, due, now)
  else
    forget(base, rec, member)
    if kind == 'dnc' then
      redis.call('SADD', K.suppressed, rec[R_PHONE])
    end
  end
  lease[L_STATE] = 'd'
  lease[L_AT] = int(now)
  lease[L_RESULT] = result
  hset(K.leases, counter, joinLease(lease))
  zadd(K.tombstones, int(now + retention), counter)
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
if apply then
  flush()
end
return reply
