--[[
  Mark agents ready for this campaign. An agent already ready keeps its idle-since time (so
  re-sending "ready" never costs it its place); an agent holding a live lease cannot be ready.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] now (ms)
  ARGV[2...] triples: agent id, device id, session (includes/ready.lua)

  Returns one status per agent (OK or AGENT_BUSY), or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "ready"

if redis.call('EXISTS', K.cfg) == 0 then
  return ST_CAMPAIGN_UNKNOWN
end
local agents, devices, sessions = {}, {}, {}
for n = 2, #ARGV, 3 do
  agents[#agents + 1] = ARGV[n]
  devices[#devices + 1] = ARGV[n + 1]
  sessions[#sessions + 1] = ARGV[n + 2]
end
local reply = {}
markReady(K, ARGV[1], agents, devices, sessions, reply)
flush()
return reply
