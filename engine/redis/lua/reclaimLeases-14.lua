--[[
  Put the leads of expired leases back at the head of their priority (no attempt counted) and
  purge tombstones past their retention. Atomic per call, so any number of reclaimers may race:
  each expired lease is requeued exactly once.

  The lease record stays as an "expired" tombstone until the lead is leased again or the
  tombstone is purged, so that a late completion of the call can still be accepted.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] at most this many leases (and, separately, tombstones)
  ARGV[4] tombstone retention (ms)

  Returns { epoch, then 5 fields per reclaimed lease: counter, agent, device, lead id,
  state ('o' offered / 'a' accepted) }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, now, limit, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])

local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }

local expired = redis.call('ZRANGEBYSCORE', K.leaseExpiry, '-inf', int(now), 'LIMIT', 0, limit)
hprefetch(K.leases, expired)
local members, agents = {}, {}
for _, counter in ipairs(expired) do
  local lease = splitLease(hget(K.leases, counter))
  members[#members + 1] = lease[L_MEMBER]
  agents[#agents + 1] = lease[L_AGENT]
end
prefetchRecords(base, members)
hprefetch(K.agentLeases, agents)

for _, counter in ipairs(expired) do
  local lease = splitLease(hget(K.leases, counter))
  local member = lease[L_MEMBER]
  local rec = splitRecord(record(base, member))
  requeueHead(base, K, rec, member)
  releaseLive(K, counter, lease[L_AGENT])
  local state = lease[L_STATE]
  lease[L_STATE] = 'x'
  lease[L_AT] = int(now)
  hset(K.leases, counter, joinLease(lease))
  zadd(K.tombstones, int(now + retention), counter)
  reply[#reply + 1] = counter
  reply[#reply + 1] = lease[L_AGENT]
  reply[#reply + 1] = lease[L_DEVICE]
  reply[#reply + 1] = rec[R_ID]
  reply[#reply + 1] = state
end

-- Purge tombstones past retention. An expired tombstone still named by its lead goes too: a
-- late completion after that long is stale.
local purge = redis.call('ZRANGEBYSCORE', K.tombstones, '-inf', int(now), 'LIMIT', 0, limit)
if #purge > 0 then
  hprefetch(K.leases, purge)
  for _, counter in ipairs(purge) do
    local raw = hget(K.leases, counter)
    if raw and string.sub(raw, 1, 1) == 'x' then
      local member = splitLease(raw)[L_MEMBER]
      if hget(K.leaseOf, member) == counter then
        hdel(K.leaseOf, member)
      end
    end
    hdel(K.leases, counter)
    zrem(K.tombstones, counter)
  end
end

flush()
return reply
