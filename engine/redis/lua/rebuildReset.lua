--[[
  First step of a rebuild: empty the campaign's queue, keeping only the leads whose calls are in
  progress (under a live or claimed lease, or revoked mid-call with the outcome still to come):
  they must not be queued twice. The engine then queues the system of record's leads again; a
  kept lead's number is already indexed, so it is skipped as a duplicate.

  Nothing is leased from the campaign until attachLeases ends the rebuild (it is marked stale
  here), so the calls in progress that the queue lost can be attached again first. A queue that
  was marked stale because Redis may have lost writes (includes/run.lua) starts a new lease epoch
  here: lease counters issued again can never name an earlier lease.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] a fresh epoch, used if the queue was marked stale
  ARGV[3] rebuilds ended (cfg rg, counted by attachLeases) when the caller saw the need for this
          one, or '' to rebuild regardless: if one has ended since and the queue is not stale
          (nor went back in time, includes/run.lua), nothing is touched

  Returns the number of leads kept, REBUILT_SINCE (-100: nothing touched), or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "keys"
--- @include "lease"
--- @include "run"

local REBUILT_SINCE = -100

local base = ARGV[1]
local seq = redis.call('HGET', K.cfg, 'seq')
if not seq then
  return ST_CAMPAIGN_UNKNOWN
end
if ARGV[3] ~= '' and tonumber(redis.call('HGET', K.cfg, 'rg') or '0') > tonumber(ARGV[3]) then
  if checkRun(K.cfg) == ST_OK then
    return REBUILT_SINCE
  end
end

-- Leads under a live lease or revoked mid-call, with their records and lease fields.
local kept = {}
local function keep(field)
  local raw = redis.call('HGET', K.leases, field)
  if raw then
    local member = splitLease(raw)[L_MEMBER]
    local rec = redis.call('HGET', recordKey(base, member), member)
    if rec then
      kept[#kept + 1] = { member, rec, field, string.sub(raw, 1, 1) }
    end
  end
end
for _, field in ipairs(redis.call('ZRANGEBYSCORE', K.leaseExpiry, '-inf', LIVE_BELOW)) do
  keep(field)
end
local function keepRevoked(fields)
  for _, field in ipairs(fields) do
    local raw = redis.call('HGET', K.leases, field)
    if raw and string.sub(raw, 1, 1) == 'r' then
      keep(field)
    end
  end
end
keepRevoked(redis.call('ZRANGEBYSCORE', K.leaseExpiry, TOMBSTONE_BAND, '+inf'))
keepRevoked(redis.call('ZRANGE', K.tombstones, 0, -1))

local batch = {}
local function unlink(key)
  batch[#batch + 1] = key
  if #batch == 500 then
    redis.call('UNLINK', unpack(batch))
    batch = {}
  end
end

for _, index in ipairs(redis.call('HVALS', K.zones)) do
  unlink(readyKey(base, index))
end
unlink(K.scheduled)
for _, agent in ipairs(redis.call('SMEMBERS', K.pinnedAgents)) do
  unlink(pinnedKey(base, agent))
end
unlink(K.pinnedAgents)
unlink(K.leaseOf) -- expired-lease tombstones keep their lease records, but their leads are gone
for b = 0, math.floor(tonumber(seq) / RECORD_BUCKET_SIZE) do
  unlink(recordBucketKey(base, b))
end
eachPhoneBucket(base, unlink)
if #batch > 0 then
  redis.call('UNLINK', unpack(batch))
end

for _, k in ipairs(kept) do
  local member, raw = k[1], k[2]
  redis.call('HSET', recordKey(base, member), member, raw)
  if k[4] ~= 'r' then
    local phone = splitRecord(raw)[R_PHONE]
    redis.call('HSET', phoneKey(base, phone), phone, member)
  end
  if k[4] == 'r' then
    redis.call('HSET', K.leaseOf, member, k[3]) -- live leases are found through the expiry index
  end
end

if redis.call('HGET', K.cfg, 'stale') == '1' then
  redis.call('HSET', K.cfg, 'epoch', ARGV[2])
end
redis.call('HSET', K.cfg, 'stale', '1')
return #kept
