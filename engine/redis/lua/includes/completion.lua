--[[
  Completing a lease in two steps, with one decision. `decideCompletion` judges a lease and an
  outcome and returns the decided result, "<outcome>|<attempts>|<disposition>|<lead id>|<late>";
  claiming stores it on the lease (state c) and takes the lead out of routing, so nothing can
  lease it while the outcome is committed to the system of record; applying then only re-checks
  the fence and writes the disposition the system of record holds. Shared by claimLeases,
  applyLeases and adoptLeases.
]]
--- @include "status"
--- @include "queue"
--- @include "disposition"

local policyCache = {}

-- `now` formatted, once per run (every item of a batch is completed at the same now).
local nowAt, nowText = nil, nil
local function nowString(now)
  if nowAt ~= now then
    nowAt, nowText = now, int(now)
  end
  return nowText
end
local function policyOf(K, outcome)
  local p = policyCache[outcome]
  if p == nil then
    local raw = hget(K.cfg, 'o:' .. outcome)
    p = raw and splitPolicy(raw) or false
    policyCache[outcome] = p
  end
  return p
end

--[[
  Whether the campaign is marked stale: Redis may have lost writes (includes/run.lua), or a rebuild
  is reading the system of record (rebuildReset .. attachLeases). No completion is claimed or
  applied meanwhile: applied during the read, it would take a lead out of the queue that the read,
  made before the outcome was saved, then queues again (a final outcome offered again). The
  caller retries once the rebuild is over (CAMPAIGN_STALE).
]]
local function rebuilding(K)
  return hget(K.cfg, 'stale') == '1'
end

-- The state a lease is judged by: a claim is judged by the state it was claimed from.
local function judgedState(lease)
  if lease[L_STATE] == 'c' then
    return lease[L_AUX]
  end
  return lease[L_STATE]
end

-- The late flag of a decided result (its last field).
local function resultLate(result)
  return string.sub(result, -1)
end

--[[
  Decide the completion of a lease in a completable state (live, claimed, expired-and-requeued
  while still its lead's lease, or revoked mid-call). `at` is when the call was completed (retry
  and callback times count from it). Returns status, result, phone digits when the outcome adds
  the number to the do-not-call list ('' otherwise).
]]
local function decideCompletion(base, K, lease, field, outcome, cbAt, cbScope, at, now)
  local policy = policyOf(K, outcome)
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
  local late = '0'
  if lease[L_STATE] == 'c' then
    late = resultLate(lease[L_RESULT])
  elseif lease[L_STATE] == 'x' then
    if hget(K.leaseOf, member) ~= field then
      return ST_LEASE_STALE -- expired, requeued and leased again: the newer lease stands
    end
    late = '1'
  elseif lease[L_STATE] ~= 'r' and tonumber(lease[L_AT]) <= now then
    late = '1'
  end
  local attempts = tonumber(rec[R_ATTEMPTS]) + 1
  local kind, due, pinTo = decide(policy, attempts, at, lease[L_AGENT], cbAt, cbScope)
  local dncPhone = ''
  if kind == 'dnc' then
    dncPhone = rec[R_PHONE]
  end
  return ST_OK, outcome .. '|' .. int(attempts) .. '|' .. encodeDecision(kind, due, pinTo) .. '|' .. rec[R_ID] .. '|' .. late,
    dncPhone, rec
end

-- Is the lease in a state a completion can be decided for?
local function completable(state)
  return LIVE[state] or state == 'x' or state == 'r'
end

--[[
  Claim: store the decision on the lease (state c) and hold it until `holdUntil`: a claimed lease
  is never requeued by the reaper without first fencing its commit out in the system of record.
  A lead that was back in the queue (x) leaves it here, so it cannot be leased again meanwhile.
]]
local function claim(base, K, lease, field, result, holdUntil)
  local state = lease[L_STATE]
  if state ~= 'c' then
    if state == 'x' then
      unqueue(base, K, splitRecord(record(base, lease[L_MEMBER])), lease[L_MEMBER])
      zrem(K.leaseExpiry, field)
    elseif state == 'r' then
      zrem(K.leaseExpiry, field)
    end
    lease[L_AUX] = state
    lease[L_STATE] = 'c'
  end
  lease[L_RESULT] = result
  lease[L_AT] = int(holdUntil)
  hset(K.leases, field, joinLease(lease))
  zadd(K.leaseExpiry, int(holdUntil), field)
end

-- Parse a disposition as encodeDecision writes it: kind, due (ms or nil), pinned agent ('').
local function parseDecision(s)
  local kind, rest = string.match(s, '^(%a+):?(.*)$')
  if kind == 'retry' then
    return kind, tonumber(rest), ''
  elseif kind == 'callback' then
    local due, agent = string.match(rest, '^(%d+):(.*)$')
    return kind, tonumber(due), agent
  end
  return kind, nil, ''
end

--[[
  Apply a decided completion: the lead goes where the disposition says (retry and callback back
  in the queue with the attempts counted, unless its number is suppressed; anything else out of
  the queue), the lease is done and remembered for repeats. The caller checked the fence.
  `result` is "<outcome>|<attempts>|<disposition>|<lead id>|<late>"; `rec` is the lead's record,
  split, when the caller has it already (decideCompletion returns it), else nil.
]]
local function applyResult(base, K, lease, field, result, now, retention, rec)
  local state = lease[L_STATE]
  local member = lease[L_MEMBER]
  rec = rec or splitRecord(record(base, member))
  if state == 'x' then
    unqueue(base, K, rec, member)
  end
  if LIVE[state] then
    releaseLive(K, field)
  end
  unlinkLease(K, member, field)
  local outcome, attempts, disposition = string.match(result, '^([^|]*)|([^|]*)|([^|]*)|')
  local kind, due, pinTo = parseDecision(disposition)
  local policy = policyOf(K, outcome)
  if policy and policy.lockout then
    lockNumber(base, rec, now)
  end
  if (kind == 'retry' or kind == 'callback') and not isSuppressed(K, rec) then
    rec[R_ATTEMPTS] = attempts
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
  lease[L_AT] = nowString(now)
  lease[L_RESULT] = result
  lease[L_AUX] = ''
  hset(K.leases, field, joinLease(lease))
  zadd(K.leaseExpiry, tombstoneScore(now + retention), field)
end
