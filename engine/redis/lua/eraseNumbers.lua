--[[
  Erase numbers from this campaign (a data subject's erasure request). Every queued lead with one
  of them is taken out wherever it is (ready, scheduled, pinned or under a lease) and its record
  is dropped; a live lease on one is revoked (reported, so its device is told) and its lease
  record dropped outright, so a late completion is stale and nothing of the call is kept; a record
  an earlier do-not-call removal kept for a call in progress is dropped too; and the numbers leave
  the suppression set. Once this returns no key of the campaign holds these numbers.

  Unlike removeNumbers this does not suppress: a raw number kept here is exactly what erasure must
  remove. The caller keeps the suppression outside Redis (a keyed hash in Postgres that every
  import is scrubbed against) and commits it before calling this.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2...] phone digits (E.164 without "+")

  Returns { epoch, then 6 fields per erased lead: phone digits, lead id, revoked lease field,
  agent, device ('' when no live lease was revoked), lease epoch }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "removal"
--- @include "keys"

local base = ARGV[1]
local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }

local wanted, list = {}, {}
for n = 2, #ARGV do
  wanted[ARGV[n]] = true
  list[#list + 1] = ARGV[n]
end

-- The members to erase: those the phone index names, and those whose record a removal mid-call
-- kept after taking the number out of the index (found through their lease; there are at most
-- as many as live and tombstoned leases).
local members, seen = {}, {}
for _, phone in ipairs(list) do
  local member = hget(phoneKey(base, phone), phone)
  if member and not seen[member] then
    seen[member] = true
    members[#members + 1] = member
  end
end
local leased = redis.call('HKEYS', K.leaseOf)
for _, member in ipairs(leased) do
  if not seen[member] then
    local rec = record(base, member)
    if rec and wanted[splitRecord(rec)[R_PHONE]] then
      seen[member] = true
      members[#members + 1] = member
    end
  end
end

for _, member in ipairs(members) do
  local raw = record(base, member)
  if raw then
    local rec = splitRecord(raw)
    local revoked = nil
    local lease, field = leaseOfLead(K, member)
    if lease then
      local state = lease[L_STATE]
      if LIVE[state] then
        -- A claim being committed (c) is not revoked: its commit finds no lead and its device
        -- is answered as for any lead that is gone.
        if state ~= 'c' then
          revoked = lease
        end
        releaseLive(K, field)
      end
      hdel(K.leases, field)
      zrem(K.leaseExpiry, field)
    end
    if field then
      unlinkLease(K, member, field)
    end
    unqueue(base, K, rec, member)
    forget(base, rec, member)
    replyRemoved(reply, rec[R_PHONE], rec[R_ID], revoked, field)
  end
end
if #list > 0 then
  variadic('SREM', K.suppressed, list)
  variadic('HDEL', numberHistoryKey(base), list) -- the calling rules' history of these numbers
end
flush()
return reply
