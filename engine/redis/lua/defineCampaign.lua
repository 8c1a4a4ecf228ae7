--[[
  Create or update a campaign's configuration.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] epoch for a new campaign (lease-id namespace; ignored if the campaign exists)
  ARGV[2] calling window as JSON (read back by the engine to compute zone windows)
  ARGV[3] number of outcome policies P, then P pairs: outcome code, encoded policy
  ARGV[...] number of zone windows W, then W pairs: zone key, zone plan "<encoded window>#<limits>"
            (computed by the engine for the zones it read before this call; includes/rules.lua)

  Returns { version, epoch, zones left closed, stale (0/1) }. A zone added by a concurrent
  enqueue after the engine read the zone list gets a closed window here and is counted, so the
  caller refreshes it: a lead is never offered on the hours of a replaced window. Stale means
  this Redis may have lost writes since the epoch began (includes/run.lua): the caller rebuilds
  the queue from the system of record before anything is leased from it.

  A new campaign's lease counter starts above any lease record left under its keys (a campaign
  whose config alone was lost), so no counter of this epoch names an older record.
]]
--- @include "campaign-keys"
--- @include "run"
--- @include "rules"

local epoch, windowJson = ARGV[1], ARGV[2]

local stale = 0
if redis.call('EXISTS', K.cfg) == 0 then
  local lseq = 0
  for _, field in ipairs(redis.call('HKEYS', K.leases)) do
    local n = tonumber(string.match(field, '(%d+)$'))
    if n and n > lseq then
      lseq = n
    end
  end
  redis.call('HSET', K.cfg, 'epoch', epoch, 'seq', 0, 'lseq', lseq, 'zseq', 0, 'v', 0, 'rid', runId(), 'pb', 1)
elseif checkRun(K.cfg) ~= ST_OK then
  stale = 1
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
  putZonePlan(K, campaignBase(), zones[z + 1], enc)
end

return { version, redis.call('HGET', K.cfg, 'epoch'), closed, stale }
