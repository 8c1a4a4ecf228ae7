--[[
  Calling windows, mirroring isOpenAt in engine/calling-window.ts. An encoded window is
  "<validUntil>|<start>,<end>|<start>,<end>..." (epoch ms, [start, end)), computed ahead by the
  engine for each zone key. Past validUntil the window counts as closed: a lead is never offered
  on stale hours.
]]
local function windowOpen(enc, now)
  local p = string.find(enc, '|', 1, true)
  local validUntil = tonumber(p and string.sub(enc, 1, p - 1) or enc)
  if now >= validUntil then
    return false
  end
  while p do
    local c = string.find(enc, ',', p + 1, true)
    local q = string.find(enc, '|', c + 1, true)
    local e = tonumber(string.sub(enc, c + 1, (q or 0) - 1))
    if now < e then
      return now >= tonumber(string.sub(enc, p + 1, c - 1))
    end
    p = q
  end
  return false
end

-- Zone indexes whose window is open at `now`, as a set.
local function openZoneSet(windowsKey, now)
  local all = redis.call('HGETALL', windowsKey)
  local open = {}
  for i = 1, #all, 2 do
    if windowOpen(all[i + 1], now) then
      open[all[i]] = true
    end
  end
  return open
end

-- When a closed window next opens: the start of its first interval after `now`, or nil (none
-- before validUntil). Mirrors nextOpening in engine/calling-window.ts for a closed window.
local function nextStart(enc, now)
  local p = string.find(enc, '|', 1, true)
  local validUntil = tonumber(p and string.sub(enc, 1, p - 1) or enc)
  if now >= validUntil then
    return nil
  end
  while p do
    local c = string.find(enc, ',', p + 1, true)
    local q = string.find(enc, '|', c + 1, true)
    local s = tonumber(string.sub(enc, p + 1, c - 1))
    if s > now then
      if s < validUntil then
        return s
      end
      return nil
    end
    p = q
  end
  return nil
end

-- The earliest moment a zone whose window is closed now opens (nil when none will before its
-- window must be refreshed): a dispatch trigger for agents left waiting.
local function nextOpeningOf(windowsKey, now)
  local all = redis.call('HGETALL', windowsKey)
  local best = nil
  for i = 1, #all, 2 do
    local enc = all[i + 1]
    if not windowOpen(enc, now) then
      local s = nextStart(enc, now)
      if s and (best == nil or s < best) then
        best = s
      end
    end
  end
  return best
end
