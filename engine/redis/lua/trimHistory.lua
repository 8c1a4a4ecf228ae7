--[[
  Drop the call histories of numbers no rule can hold back any more: not locked out, and every
  call past the longest reach of any zone's limits (a cap's period, the gap). A number's history
  is trimmed of old calls whenever it is written (includes/rules.lua); this takes away the
  histories of numbers that are not called again, so the hash does not grow with every number
  the campaign ever called. One HSCAN step per call: the caller goes on from the cursor returned
  until it is '0'.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] HSCAN cursor ('0' to start)
  ARGV[4] HSCAN COUNT hint

  Returns { next cursor, histories dropped }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "rules"

local base, now, cursor, count = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
if redis.call('EXISTS', K.cfg) == 0 then
  return ST_CAMPAIGN_UNKNOWN
end

local reach = 0
for _, raw in ipairs(redis.call('HVALS', zoneLimitsKey(base))) do
  local l = parseLimits(raw)
  if l.reach > reach then
    reach = l.reach
  end
end

local step = redis.call('HSCAN', numberHistoryKey(base), cursor, 'COUNT', count)
local entries = step[2]
local dropped = {}
for i = 1, #entries, 2 do
  -- "<lockedUntil>[,<call start>]...", oldest call first: the last value is the latest call.
  local raw = entries[i + 1]
  local lock = tonumber(string.match(raw, '^([^,]*)')) or 0
  local last = tonumber(string.match(raw, ',([^,]*)$')) or 0
  if lock <= now and last <= now - reach then
    dropped[#dropped + 1] = entries[i]
  end
end
if #dropped > 0 then
  redis.call('HDEL', numberHistoryKey(base), unpack(dropped))
end
return { step[1], #dropped }
