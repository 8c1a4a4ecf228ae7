--[[
  Marking agents ready, shared by setAgentsReady and dispatch. An agent already ready keeps its
  idle-since time (ZADD NX, element by element, left to right: named twice, the first wins); an
  agent holding a live lease cannot be ready. Appends one status per agent to `reply`.
]]
--- @include "status"
--- @include "stage"

local function markReady(K, now, agents, devices, reply)
  hprefetch(K.agentLeases, agents)
  local adds, devs = {}, {}
  for i, agent in ipairs(agents) do
    if hget(K.agentLeases, agent) then
      reply[#reply + 1] = ST_AGENT_BUSY
    else
      adds[#adds + 1] = now
      adds[#adds + 1] = agent
      devs[#devs + 1] = agent
      devs[#devs + 1] = devices[i]
      reply[#reply + 1] = ST_OK
    end
  end
  if #adds > 0 then
    redis.call('ZADD', K.agents, 'NX', unpack(adds))
    redis.call('HSET', K.agentDevices, unpack(devs))
  end
end
