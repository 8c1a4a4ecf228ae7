--[[
  Replace the encoded calling windows (and calling-rule limits) of zones the campaign already
  holds (periodic refresh).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] config version the windows were computed from
  ARGV[2] number of zones W, then W pairs: zone key, zone plan "<encoded window>#<limits>"

  Returns the number of zones updated, or CAMPAIGN_UNKNOWN / CONFIG_STALE (computed from an
  older window: the caller reloads the config and computes again).
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "rules"

local version = redis.call('HGET', K.cfg, 'v')
if not version then
  return ST_CAMPAIGN_UNKNOWN
end
if version ~= ARGV[1] then
  return ST_CONFIG_STALE
end
local updated = 0
for n = 1, tonumber(ARGV[2]) do
  local index = redis.call('HGET', K.zones, ARGV[2 + 2 * n - 1])
  if index then
    putZonePlan(K, campaignBase(), index, ARGV[2 + 2 * n])
    updated = updated + 1
  end
end
return updated
