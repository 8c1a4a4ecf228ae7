--[[
  Update one queued lead in place (an admin's edit, a callback created, moved or cancelled): its
  record is rewritten and it is placed again, keeping its member (its "first in" place) and, unless
  a new due time is given, its due time. Atomic with every lease script: a lead under a live lease
  (offered, on the call, being completed, or expired but not reclaimed yet) is left untouched, so
  an edit can never change a number under a call or unpin a callback its agent is taking.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1]  key base of the campaign
  ARGV[2]  now (ms)
  ARGV[3]  config version the zone window was computed from
  ARGV[4]  zone key of the updated lead
  ARGV[5]  its zone plan "<encoded window>#<limits>" (includes/rules.lua)
  ARGV[6]  phone digits the lead is queued under now (E.164 without "+")
  ARGV[7]  lead id (must be the one queued under ARGV[6])
  ARGV[8]  new phone digits (may equal ARGV[6])
  ARGV[9]  name
  ARGV[10] priority (0..255)
  ARGV[11] due (ms), or '' to keep the lead's current due time
  ARGV[12] pinned agent ('' = anyone)
  ARGV[13] custom fields JSON ('' = none)

  Attempts are the queue's own (kept from the record): only completions count them.
  Returns 'updated', 'absent' (no queued lead with this id under this number), 'leased',
  'duplicate' (the new number is queued under another lead), 'suppressed' (the new number is on
  the campaign's do-not-call or erasure set); or CAMPAIGN_UNKNOWN / CONFIG_STALE (nothing written).
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

local oldPhone, leadId, newPhone = ARGV[6], ARGV[7], ARGV[8]
local member = hget(phoneKey(base, oldPhone), oldPhone)
local raw = member and record(base, member)
if not raw then
  return 'absent'
end
local rec = splitRecord(raw)
if rec[R_ID] ~= leadId then
  return 'absent'
end

local field = currentLease(K, member)
local lease = field and hget(K.leases, field)
if lease and LIVE[splitLease(lease)[L_STATE]] then
  return 'leased'
end

if newPhone ~= oldPhone then
  if redis.call('SISMEMBER', K.suppressed, newPhone) == 1 then
    return 'suppressed'
  end
  if hget(phoneKey(base, newPhone), newPhone) then
    return 'duplicate'
  end
end

-- Where it waits now, and since when: ready (its order score holds the due time under the
-- priority band), scheduled, or pinned to its agent.
local due = nil
local score = redis.call('ZSCORE', readyKey(base, rec[R_ZONE]), member)
if score then
  due = tonumber(score) % 17592186044416 -- 2^44, includes/lead.lua PRIORITY_SHIFT
else
  score = redis.call('ZSCORE', K.scheduled, member)
  if not score and rec[R_PINNED] ~= '' then
    score = redis.call('ZSCORE', pinnedKey(base, rec[R_PINNED]), member)
  end
  due = score and tonumber(score) or now
end
if ARGV[11] ~= '' then
  due = tonumber(ARGV[11])
end

-- The zone, registered as enqueue does.
local zone = redis.call('HGET', K.zones, ARGV[4])
if not zone then
  zone = tostring(redis.call('HINCRBY', K.cfg, 'zseq', 1))
  redis.call('HSET', K.zones, ARGV[4], zone)
  redis.call('HSET', K.zoneNames, zone, ARGV[4])
end
putZonePlan(K, base, zone, ARGV[5])

unqueue(base, K, rec, member)
if newPhone ~= oldPhone then
  hdel(phoneKey(base, oldPhone), oldPhone)
  hset(phoneKey(base, newPhone), newPhone, member)
end
local updated = { rec[R_ATTEMPTS], ARGV[10], zone, ARGV[12], leadId, newPhone, ARGV[9], ARGV[13] }
hset(recordKey(base, member), member, joinRecord(updated))
place(base, K, updated, member, due, now)
flush()
return 'updated'
