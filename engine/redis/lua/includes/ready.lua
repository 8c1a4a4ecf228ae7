--[[
  Marking agents ready, shared by setAgentsReady and dispatch. An agent already ready keeps its
  idle-since time (ZADD NX, element by element, left to right: named twice, the first wins); an
  agent holding a live lease cannot be ready. The agent's device and session are recorded
  ("<device>\31<session>"): only that session may take the agent out of routing again, so an
  older session that a newer one replaced can never remove the newer one's ready flag.
  Appends one status per agent to `reply`.
]]
--- @include "status"
--- @include "stage"

local function markReady(K, now, agents, devices, sessions, reply)
  hprefetch(K.agentLeases, agents)
  local adds, devs = {}, {}
  for i, agent in ipairs(agents) do
    if hget(K.agentLeases, agent) then
      reply[#reply + 1] = ST_AGENT_BUSY
    else
      adds[#adds + 1] = now
      adds[#adds + 1] = agent
      devs[#devs + 1] = agent
      devs[#devs + 1] = devices[i] .. '\31' .. sessions[i]
      reply[#reply + 1] = ST_OK
    end
  end
  if #adds > 0 then
    redis.call('ZADD', K.agents, 'NX', unpack(adds))
    redis.call('HSET', K.agentDevices, unpack(devs))
  end
end

-- The device of a ready agent, from its "<device>\31<session>" entry.
local function deviceOf(entry)
  if not entry then
    return ''
  end
  local i = string.find(entry, '\31', 1, true)
  if i then
    return string.sub(entry, 1, i - 1)
  end
  return entry
end
