--[[
  Per-bucket key names, built from the campaign's key base exactly as engine/keys.ts builds them:
  r:<zone> ready zset, p:<agent> pinned zset, d:<bucket> lead records, n:<last 4 digits> phones.
]]
local RECORD_BUCKET_SIZE = 128

local function readyKey(base, zone)
  return base .. 'r:' .. zone
end

local function pinnedKey(base, agent)
  return base .. 'p:' .. agent
end

local function recordBucketKey(base, bucket)
  return base .. 'd:' .. string.format('%d', bucket)
end

local function recordKey(base, member)
  return recordBucketKey(base, math.floor(tonumber(string.sub(member, 2)) / RECORD_BUCKET_SIZE))
end

local function phoneKey(base, digits)
  return base .. 'n:' .. string.sub(digits, -4)
end
