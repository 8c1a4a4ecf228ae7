--[[
  Moving leads between the queue structures. Every move keeps the invariant the whole engine
  rests on: a queued lead is in exactly one of ready (its zone's zset), scheduled (the scheduled
  zset or its agent's pinned zset) or leased (a live lease record), never two.
]]
--- @include "keys"
--- @include "lead"
--- @include "lease"
--- @include "window"

local function putPinned(base, pinnedAgentsKey, agent, due, member)
  redis.call('ZADD', pinnedKey(base, agent), int(due), member)
  redis.call('SADD', pinnedAgentsKey, agent)
end

local function dropPinned(base, pinnedAgentsKey, agent, member)
  local key = pinnedKey(base, agent)
  redis.call('ZREM', key, member)
  if redis.call('EXISTS', key) == 0 then
    redis.call('SREM', pinnedAgentsKey, agent)
  end
end

-- Queue a lead that is due at `due`: pinned to its agent, ready, or scheduled.
local function place(base, K, rec, member, due, now)
  if rec[R_PINNED] ~= '' then
    putPinned(base, K.pinnedAgents, rec[R_PINNED], due, member)
  elseif due > now then
    redis.call('ZADD', K.scheduled, int(due), member)
  else
    redis.call('ZADD', readyKey(base, rec[R_ZONE]), readyScore(tonumber(rec[R_PRIORITY]), due), member)
  end
end

-- Put a lead back at the head of its priority (reject, expired lease): no attempt counted.
local function requeueHead(base, K, rec, member)
  if rec[R_PINNED] ~= '' then
    putPinned(base, K.pinnedAgents, rec[R_PINNED], 0, member)
  else
    redis.call('ZADD', readyKey(base, rec[R_ZONE]), readyScore(tonumber(rec[R_PRIORITY]), 0), member)
  end
end

-- Take a lead out of whichever wait structure holds it (ready, scheduled or pinned).
local function unqueue(base, K, rec, member)
  redis.call('ZREM', readyKey(base, rec[R_ZONE]), member)
  redis.call('ZREM', K.scheduled, member)
  if rec[R_PINNED] ~= '' then
    dropPinned(base, K.pinnedAgents, rec[R_PINNED], member)
  end
end

-- Forget a lead entirely: its record and its phone index entry.
local function forget(base, rec, member)
  redis.call('HDEL', recordKey(base, member), member)
  local pk = phoneKey(base, rec[R_PHONE])
  if redis.call('HGET', pk, rec[R_PHONE]) == member then
    redis.call('HDEL', pk, rec[R_PHONE])
  end
end

-- Move scheduled leads that fell due into their zone's ready zset, in due order.
local function promoteDue(base, K, now, limit)
  local due = redis.call('ZRANGEBYSCORE', K.scheduled, '-inf', int(now), 'WITHSCORES', 'LIMIT', 0, limit)
  local members = {}
  for i = 1, #due, 2 do
    local member = due[i]
    local rec = splitRecord(redis.call('HGET', recordKey(base, member), member))
    redis.call('ZADD', readyKey(base, rec[R_ZONE]), readyScore(tonumber(rec[R_PRIORITY]), tonumber(due[i + 1])), member)
    members[#members + 1] = member
  end
  if #members > 0 then
    redis.call('ZREM', K.scheduled, unpack(members))
  end
  return #members
end

--[[
  Picking leads. `open` is the set of zone indexes whose window is open now; `heads` caches the
  first member of each open zone's ready zset for the length of one script run.
]]
local PINNED_SCAN = 16

-- The first due pinned callback of `agent` whose window is open, removed from its zset.
local function popPinned(base, K, open, agent, now)
  if redis.call('SISMEMBER', K.pinnedAgents, agent) == 0 then
    return nil
  end
  local key = pinnedKey(base, agent)
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', int(now), 'LIMIT', 0, PINNED_SCAN)
  for _, member in ipairs(due) do
    local rec = splitRecord(redis.call('HGET', recordKey(base, member), member))
    if open[rec[R_ZONE]] then
      dropPinned(base, K.pinnedAgents, agent, member)
      return member
    end
  end
  return nil
end

local function headOf(base, heads, zone)
  local h = heads[zone]
  if h == nil then
    local r = redis.call('ZRANGE', readyKey(base, zone), 0, 0, 'WITHSCORES')
    if r[1] then
      h = { tonumber(r[2]), r[1] }
    else
      h = false
    end
    heads[zone] = h
  end
  return h
end

-- The best ready lead across open zones (priority, due, first in), removed from its zset.
local function popReady(base, open, heads)
  local bestZone, best = nil, nil
  for zone in pairs(open) do
    local h = headOf(base, heads, zone)
    if h and (best == nil or h[1] < best[1] or (h[1] == best[1] and memberLess(h[2], best[2]))) then
      bestZone, best = zone, h
    end
  end
  if not bestZone then
    return nil
  end
  redis.call('ZREM', readyKey(base, bestZone), best[2])
  heads[bestZone] = nil
  return best[2]
end

--[[
  Grant a lease on `member` to an agent's device. The lead's previous lease, if it expired and
  was requeued, loses its tombstone here: a late completion of it is stale from now on.
  Returns the reply fields of one lease.
]]
local function grant(base, K, member, agent, device, now, ttl, pinned)
  local counter = redis.call('HINCRBY', K.cfg, 'lseq', 1)
  local rk = recordKey(base, member)
  local raw = redis.call('HGET', rk, member)
  local rec = splitRecord(raw)
  if rec[R_LEASE] ~= '' then
    local old = redis.call('HGET', K.leases, rec[R_LEASE])
    if old and string.sub(old, 1, 1) == 'x' then
      redis.call('HDEL', K.leases, rec[R_LEASE])
      redis.call('ZREM', K.tombstones, rec[R_LEASE])
    end
  end
  rec[R_LEASE] = int(counter)
  raw = joinRecord(rec)
  redis.call('HSET', rk, member, raw)
  local expires = now + ttl
  redis.call('HSET', K.leases, counter, joinLease({ 'o', member, agent, device, int(expires), '' }))
  redis.call('ZADD', K.leaseExpiry, int(expires), counter)
  redis.call('HSET', K.agentLeases, agent, counter)
  redis.call('ZREM', K.agents, agent)
  redis.call('HDEL', K.agentDevices, agent)
  local zoneName = redis.call('HGET', K.zoneNames, rec[R_ZONE]) or ''
  return { int(counter), agent, device, int(expires), pinned and 1 or 0, zoneName, raw }
end

-- End a live lease's bookkeeping (expiry index, the agent's current lease).
local function releaseLive(K, counter, agent)
  redis.call('ZREM', K.leaseExpiry, counter)
  if redis.call('HGET', K.agentLeases, agent) == counter then
    redis.call('HDEL', K.agentLeases, agent)
  end
end
