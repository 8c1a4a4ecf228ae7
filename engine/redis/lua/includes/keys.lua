--[[
  Per-bucket key names, built from the campaign's key base exactly as engine/keys.ts builds them:
  r:<zone> ready zset, p:<agent> pinned zset, d:<bucket> lead records, h:<bucket> phones
  (n:<last 4 digits> in campaigns created before the phone index grew with the campaign), and
  the calling-rule keys tl (zone limits) and nh (number history).
]]
local RECORD_BUCKET_SIZE = 128

-- The campaign's key base, for scripts whose ARGV does not carry it (cfg is base .. 'cfg').
local function campaignBase()
  return string.sub(KEYS[1], 1, -4)
end

-- Calling rules (includes/rules.lua): zone index -> encoded limits; phone digits -> history.
local function zoneLimitsKey(base)
  return base .. 'tl'
end

local function numberHistoryKey(base)
  return base .. 'nh'
end

local readyKeys = {} -- zone -> key, per script run (the key base is the run's one campaign)
local function readyKey(base, zone)
  local key = readyKeys[zone]
  if not key then
    key = base .. 'r:' .. zone
    readyKeys[zone] = key
  end
  return key
end

local function pinnedKey(base, agent)
  return base .. 'p:' .. agent
end

local function recordBucketKey(base, bucket)
  return base .. 'd:' .. string.format('%d', bucket)
end

-- member -> its record bucket's key, per script run (members are looked up several times each).
local recordKeys = {}
local function recordKey(base, member)
  local key = recordKeys[member]
  if not key then
    key = recordBucketKey(base, math.floor(tonumber(string.sub(member, 2)) / RECORD_BUCKET_SIZE))
    recordKeys[member] = key
  end
  return key
end

--[[
  The phone index (phone digits -> member) is spread over hash buckets that grow with the
  campaign by linear hashing, so a small campaign has a few keys and a large one keeps each
  bucket small enough for a listpack. cfg field pb is the bucket count N (grown by enqueue, never
  shrunk). With 2^i <= N < 2^(i+1) and h the number's last 7 digits, its bucket is h mod 2^i, or
  h mod 2^(i+1) when that is below N - 2^i (already split). A campaign created before pb existed
  keeps 10,000 buckets named by the last 4 digits (pb absent: N = 0 here).
  Reads cfg (KEYS[1]) once per script run.
]]
local PHONES_PER_BUCKET = 64
local MAX_PHONE_BUCKETS = 65536
local phoneBucketCount = nil

local function phoneBuckets()
  if phoneBucketCount == nil then
    phoneBucketCount = tonumber(redis.call('HGET', KEYS[1], 'pb') or '0')
  end
  return phoneBucketCount
end

-- The largest power of two <= n.
local function phoneSpan(n)
  local low = 1
  while low * 2 <= n do
    low = low * 2
  end
  return low
end

local function phoneHash(digits)
  return tonumber(string.sub(digits, -7))
end

local function phoneBucketKey(base, bucket)
  return base .. 'h:' .. string.format('%d', bucket)
end

local spanOf, spanLow = nil, nil
local phoneKeys = {} -- bucket -> key, per script run (the key base is the run's one campaign)

local function phoneKey(base, digits)
  local n = phoneBuckets()
  if n == 0 then
    return base .. 'n:' .. string.sub(digits, -4)
  end
  local h = phoneHash(digits)
  if spanOf ~= n then
    spanOf, spanLow = n, phoneSpan(n)
  end
  local low = spanLow
  local bucket = h % low
  if bucket < n - low then
    bucket = h % (low * 2)
  end
  local key = phoneKeys[bucket]
  if not key then
    key = phoneBucketKey(base, bucket)
    phoneKeys[bucket] = key
  end
  return key
end

--[[
  Grow the phone index for `entries` numbers, splitting one bucket at a time (bucket N - 2^i into
  itself and N). A bucket split into is emptied first: whatever a damaged campaign left there is
  never read. Writes directly: call it before anything reads or stages a phone bucket.
]]
local function growPhoneIndex(base, entries)
  local n = phoneBuckets()
  if n == 0 then
    return
  end
  local want = math.min(MAX_PHONE_BUCKETS, math.ceil(entries / PHONES_PER_BUCKET))
  if want <= n then
    return
  end
  while n < want do
    local low = phoneSpan(n)
    local split = n - low
    local from, to = phoneBucketKey(base, split), phoneBucketKey(base, n)
    redis.call('DEL', to)
    local all = redis.call('HGETALL', from)
    local moved, gone = {}, {}
    for i = 1, #all, 2 do
      if phoneHash(all[i]) % (low * 2) ~= split then
        moved[#moved + 1] = all[i]
        moved[#moved + 1] = all[i + 1]
        gone[#gone + 1] = all[i]
      end
    end
    if #gone > 0 then
      redis.call('HSET', to, unpack(moved))
      redis.call('HDEL', from, unpack(gone))
    end
    n = n + 1
  end
  phoneBucketCount = n
  redis.call('HSET', KEYS[1], 'pb', n)
end

-- Every phone bucket key the campaign may hold (for dropping and resetting it).
local function eachPhoneBucket(base, fn)
  local n = phoneBuckets()
  if n == 0 then
    for b = 0, 9999 do
      fn(base .. 'n:' .. string.format('%04d', b))
    end
  else
    for b = 0, n - 1 do
      fn(phoneBucketKey(base, b))
    end
  end
end
