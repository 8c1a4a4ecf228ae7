--[[
  Disposition decision, mirroring decideDisposition in engine/disposition.ts line for line.
  A policy is "final,retryDelayMs,maxAttempts,contact,dnc,callback[,lockout]" (flags as 0/1;
  lockout: the outcome locks the number out under the calling rules, includes/rules.lua).
  Returns kind, due (retry/callback), pinned agent ('' for anyone).
]]
local function splitPolicy(s)
  local t = {}
  for v in string.gmatch(s, '[^,]+') do
    t[#t + 1] = v
  end
  return {
    final = t[1] == '1',
    retryDelay = tonumber(t[2]),
    maxAttempts = tonumber(t[3]),
    dnc = t[5] == '1',
    callback = t[6] == '1',
    lockout = t[7] == '1',
  }
end

local function decide(policy, attempts, now, agent, cbAt, cbScope)
  if policy.dnc then
    return 'dnc', 0, ''
  end
  if policy.final then
    return 'final', 0, ''
  end
  if policy.callback and cbAt ~= '' then
    local due = math.max(tonumber(cbAt), now)
    if cbScope == 'agent' then
      return 'callback', due, agent
    end
    return 'callback', due, ''
  end
  if policy.maxAttempts > 0 and attempts >= policy.maxAttempts then
    return 'exhausted', 0, ''
  end
  return 'retry', now + policy.retryDelay, ''
end

local function encodeDecision(kind, due, agent)
  if kind == 'retry' then
    return 'retry:' .. string.format('%.0f', due)
  elseif kind == 'callback' then
    return 'callback:' .. string.format('%.0f', due) .. ':' .. agent
  end
  return kind
end
