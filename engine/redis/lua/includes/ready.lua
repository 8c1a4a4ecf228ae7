--[[
  Marking agents ready, shared by setAgentsReady and dispatch. An agent already ready keeps its
  idle-since time (ZADD NX, element by element, left to right: named twice, the first wins); an
  agent holding a live lease cannot be ready. The agent's device and session are recorded
  ("<device>\31<session>"): only that session may take the agent out of routing again, so an
  older session that a newer one replaced can never remove the newer one's ready flag. The entry
  is written only when it changes (an agent ready again on the same session writes only its
  idle-since time). Busy is read from the lease the agent's score names (includes/lease.lua).
  Appends one status per agent to `reply`.
]]
--- @include "status"
--- @include "stage"
--- @include "lease"

local function markReady(K, now, agents, devices, sessions, reply)
  if #agents == 0 then
    return
  end
  local scores = redis.call('ZMSCORE', K.agents, unpack(agents))
  prefetchAgentLeases(K, agents, scores)
  hprefetch(K.agentDevices, agents)
  local adds, seen = {}, {}
  for i, agent in ipairs(agents) do
    local score = scores[i]
    if liveLeaseOf(K, agent, score) then
      reply[#reply + 1] = ST_AGENT_BUSY
    else
      -- Ready already: keeps its idle-since time. Busy band with an ended lease: ready from now.
      if not seen[agent] and not (score and not isBusyScore(score)) then
        adds[#adds + 1] = now
        adds[#adds + 1] = agent
      end
      seen[agent] = true
      local entry = devices[i] .. '\31' .. sessions[i]
      if hget(K.agentDevices, agent) ~= entry then
        hset(K.agentDevices, agent, entry) -- staged: the caller flushes
      end
      reply[#reply + 1] = ST_OK
    end
  end
  if #adds > 0 then
    redis.call('ZADD', K.agents, unpack(adds))
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
