--[[
  Lead records and order keys, mirroring engine/lead.ts.
  Record: attempts, priority, zone index, pinned agent, lead id, phone digits, name, custom
  fields JSON; separated by ASCII 31. Written at enqueue and rewritten only when a completion
  changes attempts or the pin, never to note a lease (includes/queue.lua: currentLease).
]]
local SEP = '\31'
local R_ATTEMPTS, R_PRIORITY, R_ZONE, R_PINNED, R_ID, R_PHONE, R_NAME, R_FIELDS = 1, 2, 3, 4, 5, 6, 7, 8

-- One pattern match (a single call into C) instead of a find and a sub per field: records are
-- split for every lead a script touches.
local RECORD_PATTERN = '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31(.*)$'

local function splitRecord(s)
  local t = { string.match(s, RECORD_PATTERN) }
  if not t[8] then
    error('corrupt lead record')
  end
  return t
end

local function joinRecord(t)
  return table.concat(t, SEP, 1, 8)
end

-- The zone index of a record, without splitting all of it.
local function recordZone(s)
  return string.match(s, '^[^\31]*\31[^\31]*\31([^\31]*)\31')
end

-- Integers are formatted explicitly: Lua would print large numbers in exponent form.
local function int(n)
  return string.format('%.0f', n)
end

local function memberOf(seq)
  local s = int(seq)
  return string.char(48 + #s) .. s
end

-- Byte order of members equals numeric order of their sequence numbers (length digit first).
-- Compared numerically so the result never depends on the server's collation locale.
local function memberLess(a, b)
  if #a ~= #b then
    return #a < #b
  end
  return tonumber(string.sub(a, 2)) < tonumber(string.sub(b, 2))
end

local PRIORITY_SHIFT = 17592186044416 -- 2^44
local MAX_PRIORITY = 255

-- Higher priority first, then earlier due; exact in a double. Due 0 is the head of the priority.
local function readyScore(priority, due)
  if due < 0 then
    due = 0
  elseif due > PRIORITY_SHIFT - 1 then
    due = PRIORITY_SHIFT - 1
  end
  return int((MAX_PRIORITY - priority) * PRIORITY_SHIFT + due)
end
