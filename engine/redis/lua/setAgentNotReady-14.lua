--[[
  Take an agent out of the ready set (paused, logged out, disconnected).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] agent id

  Returns 1 if the agent was ready, 0 if not.
]]
--- @include "campaign-keys"

redis.call('HDEL', K.agentDevices, ARGV[1])
return redis.call('ZREM', K.agents, ARGV[1])
