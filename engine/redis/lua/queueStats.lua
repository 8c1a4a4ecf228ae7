--[[
  Queue statistics, consistent at one instant.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)

  Returns { scheduled (incl. pinned), leased, ready agents, then 3 fields per zone: zone key,
  ready count, open now (0/1) }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "keys"
--- @include "window"
--- @include "lease"

local base, now = ARGV[1], tonumber(ARGV[2])
if redis.call('EXISTS', K.cfg) == 0 then
  return ST_CAMPAIGN_UNKNOWN
end
local scheduled = redis.call('ZCARD', K.scheduled)
for _, agent in ipairs(redis.call('SMEMBERS', K.pinnedAgents)) do
  scheduled = scheduled + redis.call('ZCARD', pinnedKey(base, agent))
end
local reply = { scheduled, redis.call('ZCOUNT', K.leaseExpiry, '-inf', LIVE_BELOW), redis.call('ZCOUNT', K.agents, '-inf', READY_BELOW) }
local names = redis.call('HGETALL', K.zoneNames)
for i = 1, #names, 2 do
  local index = names[i]
  reply[#reply + 1] = names[i + 1]
  reply[#reply + 1] = redis.call('ZCARD', readyKey(base, index))
  local enc = redis.call('HGET', K.windows, index) or '0'
  reply[#reply + 1] = windowOpen(enc, now) and 1 or 0
end
return reply
