--[[
  Create or update a campaign's configuration.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] epoch for a new campaign (lease-id namespace; ignored if the campaign exists)
  ARGV[2] calling window as JSON (read back by the engine to compute zone windows)
  ARGV[3] number of outcome policies P, then P pairs: outcome code, encoded policy
  ARGV[...] number of zone windows W, then W pairs: zone key, encoded window (computed by the
            engine for the zones it read before this call)

  Returns { version, epoch, zones left closed }. A zone added by a concurrent enqueue after the
  engine read the zone list gets a closed window here and is counted, so the caller refreshes it:
  a lead is never offered on the hours of a replaced window.
]]
--- @include "campaign-keys"

local epoch, windowJson = ARGV[1], ARGV[2]

if redis.call('EXISTS', K.cfg) == 0 then
  redis.call('HSET', K.cfg, 'epoch', epoch, 'seq', 0, 'lseq', 0, 'zseq', 0, 'v', 0)
end

local fields = redis.call('HKEYS', K.cfg)
for _, f in ipairs(fields) do
  if string.sub(f, 1, 2) == 'o:' then
    redis.call('HDEL', K.cfg, f)
  end
end

local i = 3
local policies = tonumber(ARGV[i])
for n = 1, policies do
  redis.call('HSET', K.cfg, 'o:' .. ARGV[i + 2 * n - 1], ARGV[i + 2 * n])
end
i = i + 2 * policies + 1
redis.call('HSET', K.cfg, 'win', windowJson)
local version = redis.call('HINCRBY', K.cfg, 'v', 1)

local given = {}
local windows = tonumber(ARGV[i])
for n = 1, windows do
  given[ARGV[i + 2 * n - 1]] = ARGV[i + 2 * n]
end
local closed = 0
local zones = redis.call('HGETALL', K.zones)
for z = 1, #zones, 2 do
  local enc = given[zones[z]]
  if not enc then
    enc = '0'
    closed = closed + 1
  end
  redis.call('HSET', K.windows, zones[z + 1], enc)
end

return { version, redis.call('HGET', K.cfg, 'epoch'), closed }
