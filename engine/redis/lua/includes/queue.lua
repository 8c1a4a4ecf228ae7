--[[
  Moving leads between the queue structures, through the staging of stage.lua (call flush()
  before reading a sorted set written here, and at the end of the script). Every move keeps the
  invariant the whole engine rests on: a queued lead is in exactly one of ready (its zone's zset),
  scheduled (the scheduled zset or its agent's pinned zset) or leased (a live lease record).
]]
--- @include "keys"
--- @include "lead"
--- @include "lease"
--- @include "window"
--- @include "rules"

local function putPinned(base, K, agent, due, member)
  zadd(pinnedKey(base, agent), int(due), member)
  redis.call('SADD', K.pinnedAgents, agent)
end

local function dropPinned(base, K, agent, member)
  local key = pinnedKey(base, agent)
  zrem(key, member)
  whenEmptied(key, function()
    redis.call('SREM', K.pinnedAgents, agent)
  end)
end

-- Queue a lead that is due at `due`: pinned to its agent, ready, or scheduled.
local function place(base, K, rec, member, due, now)
  if rec[R_PINNED] ~= '' then
    putPinned(base, K, rec[R_PINNED], due, member)
  elseif due > now then
    zadd(K.scheduled, int(due), member)
  else
    zadd(readyKey(base, rec[R_ZONE]), readyScore(tonumber(rec[R_PRIORITY]), due), member)
  end
end

-- Put a lead back at the head of its priority (reject, expired lease): no attempt counted.
local function requeueHead(base, K, rec, member)
  if rec[R_PINNED] ~= '' then
    putPinned(base, K, rec[R_PINNED], 0, member)
  else
    zadd(readyKey(base, rec[R_ZONE]), readyScore(tonumber(rec[R_PRIORITY]), 0), member)
  end
end

-- Take a lead out of whichever wait structure holds it (ready, scheduled or pinned).
local function unqueue(base, K, rec, member)
  zrem(readyKey(base, rec[R_ZONE]), member)
  zrem(K.scheduled, member)
  if rec[R_PINNED] ~= '' then
    dropPinned(base, K, rec[R_PINNED], member)
  end
end

-- Forget a lead entirely: its record and its phone index entry, if the index still names it
-- (a number removed mid-call keeps its record until the call's outcome is in, but not its index).
local function forget(base, rec, member)
  hdel(recordKey(base, member), member)
  local phones = phoneKey(base, rec[R_PHONE])
  if hget(phones, rec[R_PHONE]) == member then
    hdel(phones, rec[R_PHONE])
  end
end

-- Load the records of many members, one HMGET per record bucket.
local function prefetchRecords(base, members)
  local byKey, keys = {}, {}
  for _, m in ipairs(members) do
    local key = recordKey(base, m)
    if not byKey[key] then
      byKey[key] = {}
      keys[#keys + 1] = key
    end
    local list = byKey[key]
    list[#list + 1] = m
  end
  for _, key in ipairs(keys) do
    hprefetch(key, byKey[key])
  end
end

local function record(base, member)
  return hget(recordKey(base, member), member)
end

-- Move scheduled leads that fell due into their zone's ready zset, in due order (staged).
local function promoteDue(base, K, now, limit)
  local due = redis.call('ZRANGEBYSCORE', K.scheduled, '-inf', int(now), 'WITHSCORES', 'LIMIT', 0, limit)
  local members = {}
  for i = 1, #due, 2 do
    members[#members + 1] = due[i]
  end
  prefetchRecords(base, members)
  for i = 1, #due, 2 do
    local member = due[i]
    local rec = splitRecord(record(base, member))
    zadd(readyKey(base, rec[R_ZONE]), readyScore(tonumber(rec[R_PRIORITY]), tonumber(due[i + 1])), member)
    zrem(K.scheduled, member)
  end
  return #members
end

--[[
  Picking leads. `open` is the set of zone indexes whose window is open now. A picker reads the
  first `want` members of each open zone's ready zset once and then pops from those buffers,
  staging the removals, so picking N leads costs one ZRANGE per open zone.
]]
local PINNED_SCAN = 16

local function newPicker(base, open, want)
  return { base = base, open = open, want = want, bufs = {} }
end

local function bufferOf(p, zone)
  local b = p.bufs[zone]
  if not b then
    b = { items = redis.call('ZRANGE', readyKey(p.base, zone), 0, p.want - 1, 'WITHSCORES'), i = 1, offset = 0 }
    p.bufs[zone] = b
  elseif b.i > #b.items and #b.items == 2 * p.want then
    -- Used up, and the zone may hold more (a dropped lead took a place): read on. What was popped
    -- is still in the zset (removals are staged), so the next members start at the count popped.
    b.offset = b.offset + p.want
    b.items = redis.call('ZRANGE', readyKey(p.base, zone), b.offset, b.offset + p.want - 1, 'WITHSCORES')
    b.i = 1
  end
  return b
end

-- The best ready lead across open zones (priority, due, first in), removed (staged).
local function popReady(p)
  local bestZone, bestScore, bestMember = nil, nil, nil
  for zone in pairs(p.open) do
    local b = bufferOf(p, zone)
    local member = b.items[b.i]
    if member then
      local score = tonumber(b.items[b.i + 1])
      if bestZone == nil or score < bestScore or (score == bestScore and memberLess(member, bestMember)) then
        bestZone, bestScore, bestMember = zone, score, member
      end
    end
  end
  if not bestZone then
    return nil
  end
  local b = p.bufs[bestZone]
  b.i = b.i + 2
  zrem(readyKey(p.base, bestZone), bestMember)
  return bestMember
end

-- The first due pinned callback of `agent` whose window is open, removed (staged).
local function popPinned(base, K, open, agent, now)
  local key = pinnedKey(base, agent)
  local due = redis.call('ZRANGEBYSCORE', key, '-inf', int(now), 'LIMIT', 0, PINNED_SCAN)
  for _, member in ipairs(due) do
    if open[recordZone(record(base, member))] then
      dropPinned(base, K, agent, member)
      return member
    end
  end
  return nil
end

--[[
  Grant a lease on `member` to an agent's device (staged). The lease lives under its counter in
  the current epoch. The lead's previous lease, if it expired and was requeued, loses its
  tombstone here: a late completion of it is stale from now on. Appends the reply fields of one
  lease to `out`.
]]
local grantExpiryAt, grantExpiry = nil, nil

local function grant(base, K, member, agent, device, now, ttl, pinned, zoneNames, epoch, out)
  local n = tonumber(hget(K.cfg, 'lseq')) + 1
  local counter = int(n)
  hset(K.cfg, 'lseq', counter)
  local raw = record(base, member)
  local old = hget(K.leaseOf, member)
  if old then
    hdel(K.leases, old)
    zrem(K.leaseExpiry, old)
    hdel(K.leaseOf, member)
  end
  if grantExpiryAt ~= now + ttl then
    grantExpiryAt = now + ttl
    grantExpiry = int(grantExpiryAt)
  end
  local expires = grantExpiry
  -- joinLease({ 'o', member, agent, device, expires, '', epoch, '' }), in one concatenation
  hset(K.leases, counter, 'o' .. SEP .. member .. SEP .. agent .. SEP .. device .. SEP .. expires .. SEP .. SEP .. epoch .. SEP)
  zadd(K.leaseExpiry, expires, counter)
  zadd(K.agents, busyScoreOf(n), agent)
  local m = #out
  out[m + 1] = counter
  out[m + 2] = agent
  out[m + 3] = device
  out[m + 4] = expires
  out[m + 5] = pinned and 1 or 0
  out[m + 6] = zoneNames[recordZone(raw)] or ''
  out[m + 7] = raw
end

--[[
  The lead -> lease links. A live lease is found from its lead through the expiry index (the live
  leases are few: about one per agent), so granting and completing one writes no link; leaseOf
  holds a link only for a lease that is still its lead's once it is no longer live (x expired
  and requeued, v void, r revoked mid-call) and for adopted and attached leases. A grant drops
  the link and the tombstone it names: a late completion of that lease is stale from then on.
  currentLease(K, member) is the lead's lease: its link, else its live lease (or nil). Reads the
  expiry index as flushed: call it before staging grants in the same script.
]]
local liveByMember = nil

local function currentLease(K, member)
  local field = hget(K.leaseOf, member)
  if field then
    return field
  end
  if not liveByMember then
    liveByMember = {}
    local fields = redis.call('ZRANGEBYSCORE', K.leaseExpiry, '-inf', LIVE_BELOW)
    if #fields > 0 then
      hprefetch(K.leases, fields)
      for _, f in ipairs(fields) do
        local raw = hget(K.leases, f)
        if raw then
          liveByMember[splitLease(raw)[L_MEMBER]] = f
        end
      end
    end
  end
  return liveByMember[member]
end

-- Drop the lead's link if it names this lease.
local function unlinkLease(K, member, field)
  if hget(K.leaseOf, member) == field then
    hdel(K.leaseOf, member)
  end
end

-- End a live lease's bookkeeping: its expiry. (The agent's busy score stays: once the lease it
-- names is no longer live, the agent is free; see liveLeaseOf in lease.lua.)
local function releaseLive(K, field)
  zrem(K.leaseExpiry, field)
end

-- Is the lead's number suppressed in this campaign (do-not-call, erased)?
local function isSuppressed(K, rec)
  return redis.call('SISMEMBER', K.suppressed, rec[R_PHONE]) == 1
end

--[[
  A picked lead whose number the campaign suppressed is never offered: it is dropped from the
  queue instead (its number is on the list, so no enqueue can bring it back). Suppressed numbers
  are removed from every queue when they are listed, so this only catches a lead a race or a
  Redis that went back in time left behind; it costs one SCARD when nothing is suppressed.
  Returns true when `member` may be offered.
]]
-- Whether every member still has its record. A queued lead without one means the campaign's keys
-- were damaged (partly deleted, partly restored): nothing is granted from such a queue.
local function allRecorded(base, members)
  for _, m in ipairs(members) do
    if not record(base, m) then
      return false
    end
  end
  return true
end

-- Mark the campaign for a rebuild from the system of record and say so, before any grant is
-- written (staged writes are dropped, not flushed).
local function damaged(K)
  redis.call('HSET', K.cfg, 'stale', '1')
  return ST_CAMPAIGN_STALE
end

local function dialable(base, K, member, anySuppressed)
  if not anySuppressed then
    return true
  end
  local raw = record(base, member)
  if not raw then
    return true -- damaged: allRecorded refuses it before anything is granted
  end
  local rec = splitRecord(raw)
  if not isSuppressed(K, rec) then
    return true
  end
  forget(base, rec, member)
  return false
end

--[[
  Whether the calling rules hold a picked lead back now (includes/rules.lua): if so it is put
  back to wait, scheduled (or pinned to its agent) until the moment they let it through, and is
  not offered. Costs one EXISTS per run when no zone of the campaign has limits.
]]
local function heldByRules(base, K, member, now)
  if not anyRules(base) then
    return false -- nothing limits any zone: the record need not be read yet
  end
  local raw = record(base, member)
  if not raw then
    return false -- damaged: allRecorded refuses it before anything is granted
  end
  local zone = recordZone(raw)
  local l = zoneLimitsOf(base, zone)
  if not l then
    return false
  end
  local rec = splitRecord(raw)
  local untilAt = ruleHold(l, historyOf(base, rec[R_PHONE]), now)
  if not untilAt then
    return false
  end
  if rec[R_PINNED] ~= '' then
    putPinned(base, K, rec[R_PINNED], untilAt, member)
  else
    zadd(K.scheduled, int(untilAt), member)
  end
  return true
end

-- Zone index -> zone key, for the replies of granted leases.
local function zoneNameMap(K)
  local all = redis.call('HGETALL', K.zoneNames)
  local names = {}
  for i = 1, #all, 2 do
    names[all[i]] = all[i + 1]
  end
  return names
end
