--[[
  Remove a campaign and everything queued in it. Its keys are known from its own config and
  indexes (zones, agents with pinned callbacks, the record and phone bucket counts), so nothing
  is searched for: no SCAN of the keyspace, and on a cluster one slot (one hash tag).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign

  Returns the number of keys removed.
]]
--- @include "campaign-keys"
--- @include "keys"

local base = ARGV[1]
local seq = tonumber(redis.call('HGET', K.cfg, 'seq') or '0')
local batch, removed = {}, 0
local function unlink(key)
  batch[#batch + 1] = key
  if #batch == 500 then
    removed = removed + redis.call('UNLINK', unpack(batch))
    batch = {}
  end
end

for _, index in ipairs(redis.call('HVALS', K.zones)) do
  unlink(readyKey(base, index))
end
for _, agent in ipairs(redis.call('SMEMBERS', K.pinnedAgents)) do
  unlink(pinnedKey(base, agent))
end
for b = 0, math.floor(seq / RECORD_BUCKET_SIZE) do
  unlink(recordBucketKey(base, b))
end
eachPhoneBucket(base, unlink) -- reads cfg before it goes (below)
unlink(zoneLimitsKey(base))
unlink(numberHistoryKey(base))
for _, key in ipairs(KEYS) do
  unlink(key)
end
if #batch > 0 then
  removed = removed + redis.call('UNLINK', unpack(batch))
end
return removed
