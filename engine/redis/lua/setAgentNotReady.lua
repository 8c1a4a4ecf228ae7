--[[
  Take an agent out of the ready set (paused, logged out, disconnected), if the session asking
  is the one that made it ready: an older session replaced by a newer one can never remove the
  newer one's ready flag.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] agent id
  ARGV[2] session ('' = whichever session made it ready)

  Returns 1 if the agent was ready and is not any more, 0 if not.
]]
--- @include "campaign-keys"
--- @include "lease"

local agent, session = ARGV[1], ARGV[2]
if session ~= '' then
  local entry = redis.call('HGET', K.agentDevices, agent)
  if entry and string.sub(entry, -(#session + 1)) ~= '\31' .. session then
    return 0
  end
end
redis.call('HDEL', K.agentDevices, agent)
return unready(K, agent)
