--[[
  Mark agents ready for this campaign. An agent already ready keeps its idle-since time (so
  re-sending "ready" never costs it its place); an agent holding a live lease cannot be ready.

  KEYS[1..13]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] now (ms)
  ARGV[2...] pairs: agent id, device id

  Returns one status per agent (OK or AGENT_BUSY), or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "stage"

if redis.call('EXISTS', K.cfg) == 0 then
  return ST_CAMPAIGN_UNKNOWN
end
local now = ARGV[1]
local agents = {}
for n = 2, #ARGV, 2 do
  agents[#agents + 1] = ARGV[n]
end
hprefetch(K.agentLeases, agents)
local reply, ready, devices = {}, {}, {}
for n = 2, #ARGV, 2 do
  local agent, device = ARGV[n], ARGV[n + 1]
  if hget(K.agentLeases, agent) then
    reply[#reply + 1] = ST_AGENT_BUSY
  else
    -- NX per element, left to right: an agent already ready (or named twice) keeps its place.
    ready[#ready + 1] = now
    ready[#ready + 1] = agent
    devices[#devices + 1] = agent
    devices[#devices + 1] = device
    reply[#reply + 1] = ST_OK
  end
end
if #ready > 0 then
  redis.call('ZADD', K.agents, 'NX', unpack(ready))
  redis.call('HSET', K.agentDevices, unpack(devices))
end
return reply
