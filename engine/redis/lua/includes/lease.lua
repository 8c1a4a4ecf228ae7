--- @include "lead"
--- @include "status"
--- @include "stage"
--[[
  Lease records, mirroring LeaseRecord in engine/lease.ts:
  state, member, agent, device, time, result, epoch, aux.
  States: live o offered, a accepted (dialling), n on the call, w call ended (wrap-up),
  c completing (outcome decided, being committed; result holds the decision, aux the state it
  was completed from); tombstones x expired and requeued, r revoked (number removed mid-call;
  its outcome is still accepted), v void (a completion that never committed, fenced out),
  d done (result holds the stored completion).
  A lease lives under the hash field of its counter when issued in the campaign's current
  epoch, or under "<epoch>:<counter>" when adopted from an earlier epoch.
]]
local L_STATE, L_MEMBER, L_AGENT, L_DEVICE, L_AT, L_RESULT, L_EPOCH, L_AUX = 1, 2, 3, 4, 5, 6, 7, 8

local LIVE = { o = true, a = true, n = true, w = true, c = true }

--[[
  One sorted set indexes every lease record by time (KEYS leaseExpiry): a live lease by its
  expiry, a tombstone by its purge time in a band above every expiry (TOMBSTONE_BAND + ms, exact
  in a double). Completing a lease then moves one score instead of removing a member from one
  set and adding it to another. Live leases: ZRANGEBYSCORE -inf (TOMBSTONE_BAND; tombstones due
  for purge: TOMBSTONE_BAND .. tombstoneScore(now). The tombstones key of the key set is read
  only to purge what campaigns written before this kept there.
]]
local TOMBSTONE_BAND = 1125899906842624 -- 2^50, as engine/keys.ts
local LIVE_BELOW = '(1125899906842624'

-- A batch gives its leases the same purge time: formatted once.
local tombstoneScores = {}
local function tombstoneScore(at)
  local s = tombstoneScores[at]
  if not s then
    s = string.format('%.0f', TOMBSTONE_BAND + at)
    tombstoneScores[at] = s
  end
  return s
end
local ACCEPTED = { a = true, n = true, w = true }
-- States a lease frees its agent in (a claim from one of them does not hold the agent again).
local FREED = { x = true, r = true }

-- The member a lease record names, without splitting it.
local LEASE_MEMBER_PATTERN = '^[^\31]*\31([^\31]*)\31'

-- Lease records share the record layout (8 fields, separated by SEP): one pattern match.
local function splitLease(s)
  local t = { string.match(s, RECORD_PATTERN) }
  if not t[8] then
    error('corrupt lease record')
  end
  return t
end

local function joinLease(t)
  return table.concat(t, SEP, 1, 8)
end

--[[
  The lease a lease operation names, or why it cannot have it: the campaign is unknown; no
  record of this epoch and counter exists (stale if the current epoch issued the counter, else
  unknown: an earlier epoch's lease Redis may have lost); or it is someone else's (not owned).
  Every lease operation checks in this order, then judges the lease's state itself.
  Returns status, lease (split) or nil, the hash field it lives under.
]]
local function findLease(cfgKey, leasesKey, epoch, counter, agent)
  local current = hget(cfgKey, 'epoch')
  if not current then
    return ST_CAMPAIGN_UNKNOWN, nil, nil
  end
  local field, lease = counter, nil
  if epoch ~= current then
    field = epoch .. ':' .. counter
    local raw = hget(leasesKey, field)
    lease = raw and splitLease(raw)
  end
  if not lease then
    field = counter
    local raw = hget(leasesKey, counter)
    lease = raw and splitLease(raw)
    -- A record under this counter from another epoch (one that survived an epoch change) is
    -- another lease.
    if lease and lease[L_EPOCH] ~= epoch then
      lease = nil
    end
  end
  if not lease then
    if epoch == current and tonumber(counter) <= tonumber(hget(cfgKey, 'lseq') or '0') then
      return ST_LEASE_STALE, nil, nil
    end
    return ST_LEASE_UNKNOWN, nil, nil
  end
  if agent ~= '' and lease[L_AGENT] ~= agent then
    return ST_LEASE_NOT_OWNED, nil, nil
  end
  return ST_OK, lease, field
end

--[[
  The lease an agent holds. Granting a lease moves the agent from the ready range of the agents
  zset to the busy band: score AGENT_BUSY_BAND + lease counter (one element write; nothing to
  undo when the lease ends). The agent is busy while the lease its score names is live and its
  own (a counter of an earlier epoch may name another agent's lease), unless that lease is being
  completed from a state that had already freed the agent (claimed after it expired and was
  requeued, or after it was revoked). A lease attached by a rebuild is named by agentLeases
  instead. Ready agents: ZRANGEBYSCORE -inf (AGENT_BUSY_BAND.
]]
local AGENT_BUSY_BAND = 1125899906842624 -- 2^50, as engine/keys.ts
local READY_BELOW = '(1125899906842624'

local function busyScoreOf(n)
  return string.format('%.0f', AGENT_BUSY_BAND + n)
end

local function isBusyScore(score)
  return score and tonumber(score) >= AGENT_BUSY_BAND
end

-- score -> the lease field it names (false for a ready score), per script run.
local busyFields = {}
local function busyField(score)
  if not score then
    return nil
  end
  local field = busyFields[score]
  if field == nil then
    field = isBusyScore(score) and string.format('%.0f', tonumber(score) - AGENT_BUSY_BAND) or false
    busyFields[score] = field
  end
  return field or nil
end

local function liveLeaseFor(leasesKey, field, agent)
  local raw = field and hget(leasesKey, field)
  if not (raw and LIVE[string.sub(raw, 1, 1)]) then
    return false
  end
  local lease = splitLease(raw)
  return lease[L_AGENT] == agent and not (lease[L_STATE] == 'c' and FREED[lease[L_AUX]])
end

-- Whether any agent has a lease a rebuild attached (agentLeases is empty otherwise).
local anyAttached = nil
local function attachedLeases(K)
  if anyAttached == nil then
    anyAttached = redis.call('EXISTS', K.agentLeases) == 1
  end
  return anyAttached
end

-- The field of the live lease `agent` holds, or nil; `score` is its score in the agents zset.
local function liveLeaseOf(K, agent, score)
  local field = busyField(score)
  if liveLeaseFor(K.leases, field, agent) then
    return field
  end
  if not attachedLeases(K) then
    return nil
  end
  field = hget(K.agentLeases, agent)
  if liveLeaseFor(K.leases, field, agent) then
    return field
  end
  return nil
end

-- Prefetch what liveLeaseOf reads for these agents (scores as ZMSCORE returns them).
local function prefetchAgentLeases(K, agents, scores)
  local attached = attachedLeases(K)
  if attached then
    hprefetch(K.agentLeases, agents)
  end
  local fields = {}
  for i, agent in ipairs(agents) do
    local f = busyField(scores[i])
    if f then
      fields[#fields + 1] = f
    end
    f = attached and hget(K.agentLeases, agent)
    if f then
      fields[#fields + 1] = f
    end
  end
  if #fields > 0 then
    hprefetch(K.leases, fields)
  end
end

-- Take a ready agent out of routing (an agent in the busy band stays there). 1 if it was ready.
local function unready(K, agent)
  local score = redis.call('ZSCORE', K.agents, agent)
  if score and not isBusyScore(score) then
    return redis.call('ZREM', K.agents, agent)
  end
  return 0
end
