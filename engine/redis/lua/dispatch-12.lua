--[[
  Pair the longest-idle ready agents with the next leads, many pairs in one atomic step.
  Each agent gets its own due pinned callback first, else the best ready lead across the zones
  whose calling window is open now (priority, then due, then first in). The window check is
  here, inside the lease, not after it. Scheduled leads that fell due are promoted first, so a
  lead is never offered late because the promoter had not run yet.

  KEYS[1..12]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] offer TTL (ms)
  ARGV[4] maximum pairs
  ARGV[5] promote at most this many due scheduled leads first

  Returns { epoch, then 7 fields per lease: counter, agent, device, expiry, pinned (0/1),
  zone key, lead record }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local maxPairs, promoteLimit = tonumber(ARGV[4]), tonumber(ARGV[5])

local epoch = redis.call('HGET', K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }

local agents = redis.call('ZRANGE', K.agents, 0, maxPairs - 1)
if #agents == 0 then
  return reply
end

promoteDue(base, K, now, promoteLimit)
local open = openZoneSet(K.windows, now)
local heads = {}
local readyLeft = true

for _, agent in ipairs(agents) do
  local member = popPinned(base, K, open, agent, now)
  local pinned = member ~= nil
  if not member and readyLeft then
    member = popReady(base, open, heads)
    readyLeft = member ~= nil
  end
  if member then
    local device = redis.call('HGET', K.agentDevices, agent) or ''
    local lease = grant(base, K, member, agent, device, now, ttl, pinned)
    for _, v in ipairs(lease) do
      reply[#reply + 1] = v
    end
  elseif redis.call('SCARD', K.pinnedAgents) == 0 then
    break -- nothing ready and no pinned callbacks: no later agent can be served either
  end
end

return reply
