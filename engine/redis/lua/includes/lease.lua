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
local ACCEPTED = { a = true, n = true, w = true }

local function splitLease(s)
  local t = {}
  local i = 1
  for n = 1, 7 do
    local j = string.find(s, SEP, i, true)
    t[n] = string.sub(s, i, j - 1)
    i = j + 1
  end
  t[8] = string.sub(s, i)
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
  local field, raw = counter, nil
  if epoch ~= current then
    field = epoch .. ':' .. counter
    raw = hget(leasesKey, field)
  end
  if not raw then
    field = counter
    raw = hget(leasesKey, counter)
    -- A record under this counter from another epoch (one that survived an epoch change) is
    -- another lease.
    if raw and splitLease(raw)[L_EPOCH] ~= epoch then
      raw = nil
    end
  end
  if not raw then
    if epoch == current and tonumber(counter) <= tonumber(hget(cfgKey, 'lseq') or '0') then
      return ST_LEASE_STALE, nil, nil
    end
    return ST_LEASE_UNKNOWN, nil, nil
  end
  local lease = splitLease(raw)
  if agent ~= '' and lease[L_AGENT] ~= agent then
    return ST_LEASE_NOT_OWNED, nil, nil
  end
  return ST_OK, lease, field
end

--[[
  The live lease an agent holds (its field), or nil. The agentLeases hash names the agent's
  latest lease and is not cleared when that lease ends (a completion writes one element less):
  whether the agent is busy is read from the lease it names, which must still be live and the
  agent's (a counter of an earlier epoch may name another agent's lease).
]]
local function liveLeaseOf(agentLeasesKey, leasesKey, agent)
  local field = hget(agentLeasesKey, agent)
  if not field then
    return nil
  end
  local raw = hget(leasesKey, field)
  if raw and LIVE[string.sub(raw, 1, 1)] and splitLease(raw)[L_AGENT] == agent then
    return field
  end
  return nil
end

-- Prefetch the leases the agentLeases hash names for these agents (for liveLeaseOf).
local function prefetchAgentLeases(agentLeasesKey, leasesKey, agents)
  hprefetch(agentLeasesKey, agents)
  local fields = {}
  for _, agent in ipairs(agents) do
    local field = hget(agentLeasesKey, agent)
    if field then
      fields[#fields + 1] = field
    end
  end
  if #fields > 0 then
    hprefetch(leasesKey, fields)
  end
end
