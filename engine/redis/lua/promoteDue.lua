--[[
  Move scheduled leads (retries, callbacks for anyone) that fell due into their zone's ready
  zset, in due order.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] at most this many leads

  Returns the number of leads promoted, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

if redis.call('EXISTS', K.cfg) == 0 then
  return ST_CAMPAIGN_UNKNOWN
end
local n = promoteDue(ARGV[1], K, tonumber(ARGV[2]), tonumber(ARGV[3]))
flush()
return n
