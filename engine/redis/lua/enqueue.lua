--[[
  Queue a batch of validated leads.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] config version the zone windows were computed from
  ARGV[4] number of zone keys Z in this batch, then Z pairs: zone key, zone plan
          "<encoded window>#<limits>" (includes/rules.lua)
  ARGV[...] number of leads N, then N groups of 9: lead id, phone digits, name, zone (1..Z),
            priority, due (ms, '' = now), attempts, pinned agent ('' = none), fields JSON

  A lead whose number the campaign suppressed (do-not-call, erased) is skipped, and so is one
  whose number is already queued in the campaign (or earlier in this batch): the suppression
  check is here, atomic with the write, so a number listed while an import runs never slips in.
  A lead whose number is already queued under the same lead id is already queued: an import
  retried after a failure converges instead of reporting its own leads as duplicates.
  Returns { queued count, D, A, D 1-based indexes of duplicates, A of leads already queued,
  then 1-based indexes of suppressed leads }, or CAMPAIGN_UNKNOWN / CONFIG_STALE (windows
  computed from an older config: nothing written).
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, now = ARGV[1], tonumber(ARGV[2])

local version = redis.call('HGET', K.cfg, 'v')
if not version then
  return ST_CAMPAIGN_UNKNOWN
end
if version ~= ARGV[3] then
  return ST_CONFIG_STALE
end

local i = 4
local zoneCount = tonumber(ARGV[i])
local zoneIndex = {}
for n = 1, zoneCount do
  local key, enc = ARGV[i + 2 * n - 1], ARGV[i + 2 * n]
  local index = redis.call('HGET', K.zones, key)
  if not index then
    index = tostring(redis.call('HINCRBY', K.cfg, 'zseq', 1))
    redis.call('HSET', K.zones, key, index)
    redis.call('HSET', K.zoneNames, index, key)
  end
  putZonePlan(K, base, index, enc)
  zoneIndex[n] = index
end
i = i + 2 * zoneCount + 1

local count = tonumber(ARGV[i])
local first = i + 1

-- Pass 1: find duplicates, so sequence numbers are allocated in one step for the rest.
local skipped = {}
local duplicates, already, suppressed = {}, {}, {}
local seen = {}
local accepted = 0
for n = 0, count - 1 do
  local a = first + n * 9
  local phone = ARGV[a + 1]
  if redis.call('SISMEMBER', K.suppressed, phone) == 1 then
    skipped[#skipped + 1] = n + 1
    suppressed[#suppressed + 1] = n + 1
  elseif seen[phone] then
    skipped[#skipped + 1] = n + 1
    duplicates[#duplicates + 1] = n + 1
  else
    local member = redis.call('HGET', phoneKey(base, phone), phone)
    if member then
      skipped[#skipped + 1] = n + 1
      local rec = redis.call('HGET', recordKey(base, member), member)
      if rec and splitRecord(rec)[R_ID] == ARGV[a] then
        already[#already + 1] = n + 1
      else
        duplicates[#duplicates + 1] = n + 1
      end
    else
      seen[phone] = true
      accepted = accepted + 1
    end
  end
end

-- Pass 2: write records, phone index and queue entries; records and zsets in batched calls.
local pending = {}
local order = {}
local function add(command, key, a, b)
  local list = pending[key]
  if not list then
    list = { command = command }
    pending[key] = list
    order[#order + 1] = key
  end
  list[#list + 1] = a
  list[#list + 1] = b
end

local seq = redis.call('HINCRBY', K.cfg, 'seq', accepted) - accepted
-- Room in the phone index for the leads accepted (includes/keys.lua): the lookups above used the
-- buckets as they were, the writes below use them as they are now.
growPhoneIndex(base, seq + accepted)
local skip = 1
for n = 0, count - 1 do
  if skipped[skip] == n + 1 then
    skip = skip + 1
  else
    local a = first + n * 9
    seq = seq + 1
    local member = memberOf(seq)
    local phone, zone, pinned = ARGV[a + 1], zoneIndex[tonumber(ARGV[a + 3])], ARGV[a + 7]
    local priority = tonumber(ARGV[a + 4])
    local due = now
    if ARGV[a + 5] ~= '' then
      due = tonumber(ARGV[a + 5])
    end
    add('HSET', recordKey(base, member), member,
      joinRecord({ ARGV[a + 6], ARGV[a + 4], zone, pinned, ARGV[a], phone, ARGV[a + 2], ARGV[a + 8] }))
    redis.call('HSET', phoneKey(base, phone), phone, member)
    if pinned ~= '' then
      add('ZADD', pinnedKey(base, pinned), int(due), member)
      redis.call('SADD', K.pinnedAgents, pinned)
    elseif due > now then
      add('ZADD', K.scheduled, int(due), member)
    else
      add('ZADD', readyKey(base, zone), readyScore(priority, due), member)
    end
  end
end

local CHUNK = 4000
for _, key in ipairs(order) do
  local list = pending[key]
  for s = 1, #list, CHUNK do
    redis.call(list.command, key, unpack(list, s, math.min(s + CHUNK - 1, #list)))
  end
end

local reply = { accepted, #duplicates, #already }
for _, index in ipairs(duplicates) do
  reply[#reply + 1] = index
end
for _, index in ipairs(already) do
  reply[#reply + 1] = index
end
for _, index in ipairs(suppressed) do
  reply[#reply + 1] = index
end
return reply
