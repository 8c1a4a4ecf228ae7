--[[
  Pair the longest-idle ready agents with the next leads, many pairs in one atomic step.
  Each agent gets its own due pinned callback first, else the best ready lead across the zones
  whose calling window is open now (priority, then due, then first in). The window check is
  here, inside the lease, not after it, and so are the suppression check (a lead whose number is
  on the campaign's do-not-call set is dropped, never offered) and the per-number calling rules
  (call caps, minimum gap, lockout: a lead they hold back waits, scheduled, until they allow it;
  includes/rules.lua). Scheduled leads that fell due are
  promoted first, so a lead is never offered late because the promoter had not run yet. Nothing
  is leased from a queue that may have gone back in time (includes/run.lua).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] offer TTL (ms)
  ARGV[4] maximum pairs
  ARGV[5] promote at most this many due scheduled leads first
  ARGV[6] number of agents R to mark ready first (as setAgentsReady does), then R triples:
          agent id, device id, session. An agent that just became ready is matched in the same
          step, one round trip from "ready" to "offered".

  Returns { epoch, next opening (ms, or '' : when ready agents are left unmatched, the earliest
  moment a closed zone's window opens), R statuses (OK or AGENT_BUSY), then 7 fields per lease:
  counter, agent, device, expiry, pinned (0/1), zone key, lead record }, or CAMPAIGN_UNKNOWN /
  CAMPAIGN_STALE.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"
--- @include "ready"
--- @include "run"

local base, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local maxPairs, promoteLimit = tonumber(ARGV[4]), tonumber(ARGV[5])

local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local run = checkRun(K.cfg)
if run ~= ST_OK then
  return run
end
local reply = { epoch, '' }

local readyCount = tonumber(ARGV[6] or '0')
local names, devices, sessions = {}, {}, {}
if readyCount > 0 then
  for n = 0, readyCount - 1 do
    names[#names + 1] = ARGV[7 + n * 3]
    devices[#devices + 1] = ARGV[8 + n * 3]
    sessions[#sessions + 1] = ARGV[9 + n * 3]
  end
  markReady(K, int(now), names, devices, sessions, reply)
end

local agents = redis.call('ZRANGEBYSCORE', K.agents, '-inf', READY_BELOW, 'LIMIT', 0, maxPairs)
if #agents == 0 then
  return reply
end

if promoteDue(base, K, now, promoteLimit) > 0 then
  flush()
end
local open = openZoneSet(K.windows, now)
local pinnedAgents = {}
for _, agent in ipairs(redis.call('SMEMBERS', K.pinnedAgents)) do
  pinnedAgents[agent] = true
end
local anySuppressed = redis.call('SCARD', K.suppressed) > 0

-- Choose first (reads only, but for dropping suppressed leads), then write in one go.
local picker = newPicker(base, open, #agents)
local pairs_ = {}
local readyLeft = true
for _, agent in ipairs(agents) do
  local member = nil
  if pinnedAgents[agent] then
    member = popPinned(base, K, open, agent, now)
    if member and not (dialable(base, K, member, anySuppressed) and not heldByRules(base, K, member, now)) then
      member = nil
    end
  end
  local pinned = member ~= nil
  while not member and readyLeft do
    member = popReady(picker)
    readyLeft = member ~= nil
    if member and not (dialable(base, K, member, anySuppressed) and not heldByRules(base, K, member, now)) then
      member = nil
    end
  end
  if member then
    pairs_[#pairs_ + 1] = { agent, member, pinned }
  elseif not next(pinnedAgents) then
    break -- nothing ready and no pinned callbacks: no later agent can be served either
  end
end

if #pairs_ < #agents then
  local opening = nextOpeningOf(K.windows, now)
  if opening then
    reply[2] = int(opening)
  end
end
if #pairs_ == 0 then
  flush()
  return reply
end

local members, chosen = {}, {}
for i, p in ipairs(pairs_) do
  members[i] = p[2]
  chosen[i] = p[1]
end
prefetchRecords(base, members)
if not allRecorded(base, members) then
  -- The agents asking now are not left ready: a dispatch after the rebuild would offer them a
  -- call while their own request is still being answered (their gateway asks again).
  for _, agent in ipairs(names) do
    unready(K, agent)
  end
  return damaged(K)
end
hprefetch(K.leaseOf, members)
hprefetch(K.agentDevices, chosen)
local zoneNames = zoneNameMap(K)
for _, p in ipairs(pairs_) do
  local agent = p[1]
  grant(base, K, p[2], agent, deviceOf(hget(K.agentDevices, agent)), now, ttl, p[3], zoneNames, epoch, reply)
end
flush()
return reply
