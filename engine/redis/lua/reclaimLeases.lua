--[[
  Put the leads of expired leases back at the head of their priority (no attempt counted) and
  purge tombstones past their retention. Atomic per call, so any number of reclaimers may race:
  each expired lease is requeued exactly once.

  Mode 'expired' requeues expired live leases that were not claimed (offered, dialling, on the
  call, ended); the lease stays as an expired tombstone until the lead is leased again or the
  tombstone is purged, so a late completion of the call is still accepted. A claimed lease (c)
  is skipped: its outcome may be committing right now, so it may only be requeued once that
  commit has been fenced out in the system of record. Mode 'void' requeues exactly such claims
  (the caller has recorded them as void in Postgres, so their commit can never land): their
  leases become void tombstones, and a lead whose number was removed mid-call leaves for good.
  A number suppressed meanwhile is never requeued.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] at most this many leases (and, separately, tombstones)
  ARGV[4] tombstone retention (ms)
  ARGV[5] mode: 'expired' or 'void'
  ARGV[6] 'all' (every expired lease, up to the limit) or 'listed' (only the lease fields that
          follow: those the caller settled first)
  ARGV[7...] lease fields, when listed

  Returns { epoch, then 6 fields per requeued lease: field, agent, device, lead id, state it
  was in, epoch it was issued in }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, now, limit, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local voiding = ARGV[5] == 'void'

local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }

local expired
if ARGV[6] == 'listed' then
  expired = {}
  for n = 7, math.min(#ARGV, 6 + limit) do
    local score = redis.call('ZSCORE', K.leaseExpiry, ARGV[n])
    if score and tonumber(score) <= now then
      expired[#expired + 1] = ARGV[n]
    end
  end
else
  expired = redis.call('ZRANGEBYSCORE', K.leaseExpiry, '-inf', int(now), 'LIMIT', 0, limit)
end
hprefetch(K.leases, expired)
local members = {}
for _, field in ipairs(expired) do
  local lease = splitLease(hget(K.leases, field))
  members[#members + 1] = lease[L_MEMBER]
end
prefetchRecords(base, members)

for _, field in ipairs(expired) do
  local lease = splitLease(hget(K.leases, field))
  local state = lease[L_STATE]
  if (state == 'c') == voiding then
    local member = lease[L_MEMBER]
    local raw = record(base, member)
    local leadId = ''
    if raw then
      local rec = splitRecord(raw)
      leadId = rec[R_ID]
      if (voiding and lease[L_AUX] == 'r') or isSuppressed(K, rec) then
        forget(base, rec, member)
      else
        requeueHead(base, K, rec, member)
      end
    end
    releaseLive(K, field)
    -- No longer live but still the lead's lease (until the lead is leased again): linked.
    hset(K.leaseOf, member, field)
    if voiding then
      state = lease[L_AUX]
      lease[L_STATE] = 'v'
      lease[L_AUX] = ''
      lease[L_RESULT] = ''
    else
      lease[L_STATE] = 'x'
    end
    lease[L_AT] = int(now)
    hset(K.leases, field, joinLease(lease))
    zadd(K.leaseExpiry, tombstoneScore(now + retention), field)
    reply[#reply + 1] = field
    reply[#reply + 1] = lease[L_AGENT]
    reply[#reply + 1] = lease[L_DEVICE]
    reply[#reply + 1] = leadId
    reply[#reply + 1] = state
    reply[#reply + 1] = lease[L_EPOCH]
  end
end

-- Purge tombstones past retention. An expired tombstone still named by its lead goes too: a
-- late completion after that long is stale. A lead revoked mid-call whose outcome never came
-- leaves with its lease.
local purge = redis.call('ZRANGEBYSCORE', K.leaseExpiry, TOMBSTONE_BAND, tombstoneScore(now), 'LIMIT', 0, limit)
local legacy = {}
if #purge < limit then
  for _, field in ipairs(redis.call('ZRANGEBYSCORE', K.tombstones, '-inf', int(now), 'LIMIT', 0, limit - #purge)) do
    purge[#purge + 1] = field
    legacy[field] = true
  end
end
if #purge > 0 then
  hprefetch(K.leases, purge)
  for _, field in ipairs(purge) do
    local raw = hget(K.leases, field)
    if raw then
      local lease = splitLease(raw)
      local member = lease[L_MEMBER]
      local state = lease[L_STATE]
      if hget(K.leaseOf, member) == field then
        hdel(K.leaseOf, member)
        if state == 'r' then
          local rec = record(base, member)
          if rec then
            forget(base, splitRecord(rec), member)
          end
        end
      end
    end
    hdel(K.leases, field)
    if legacy[field] then
      zrem(K.tombstones, field)
    else
      zrem(K.leaseExpiry, field)
    end
  end
end

flush()
return reply
