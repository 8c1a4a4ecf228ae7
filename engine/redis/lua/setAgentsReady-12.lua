--[[
  Mark agents ready for this campaign. An agent already ready keeps its idle-since time (so
  re-sending "ready" never costs it its place); an agent holding a live lease cannot be ready.

  KEYS[1..12]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] now (ms)
  ARGV[2...] pairs: agent id, device id

  Returns one status per agent (OK or AGENT_BUSY), or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"

if redis.call('EXISTS', K.cfg) == 0 then
  return ST_CAMPAIGN_UNKNOWN
end
local now = ARGV[1]
local reply = {}
for n = 2, #ARGV, 2 do
  local agent, device = ARGV[n], ARGV[n + 1]
  if redis.call('HEXISTS', K.agentLeases, agent) == 1 then
    reply[#reply + 1] = ST_AGENT_BUSY
  else
    redis.call('ZADD', K.agents, 'NX', now, agent)
    redis.call('HSET', K.agentDevices, agent, device)
    reply[#reply + 1] = ST_OK
  end
end
return reply
