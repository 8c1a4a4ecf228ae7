--[[
  Remove every queued lead with one of the given numbers (do-not-call, erasure), wherever it is:
  ready, scheduled, pinned or under a live lease, and suppress the numbers in this campaign: an
  enqueue never queues them again and no lease script offers them. Once this returns, none of
  these numbers can be offered.

  A live lease on such a lead is revoked for routing (the device is told) but its call may be in
  progress: the lease becomes an r tombstone and the lead's record stays until the call's
  outcome is completed (it is stored; the lead never returns to the queue) or the tombstone is
  purged. A lease being completed (c) is left to finish; its lead never returns to the queue.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] tombstone retention (ms)
  ARGV[4...] phone digits (E.164 without "+")

  Returns { epoch, then 6 fields per removed lead: phone digits, lead id, revoked lease field,
  agent, device ('' when no live lease), lease epoch }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "removal"

local base, now, retention = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }

for n = 4, #ARGV do
  local phone = ARGV[n]
  local phones = phoneKey(base, phone)
  local member = hget(phones, phone)
  if member then
    local rec = splitRecord(record(base, member))
    local revoked = nil
    local keepRecord = false
    local lease, field = leaseOfLead(K, member)
    if lease then
      local state = lease[L_STATE]
      if state == 'c' then
        keepRecord = true -- completing: the apply sees the number suppressed
      elseif LIVE[state] then
        keepRecord = true
        revoked = lease
        releaseLive(K, field)
        lease[L_STATE] = 'r'
        lease[L_AT] = int(now)
        hset(K.leases, field, joinLease(lease))
        hset(K.leaseOf, member, field) -- still the lead's lease: its outcome is accepted
        zadd(K.leaseExpiry, tombstoneScore(now + retention), field)
      else
        hdel(K.leases, field)
        zrem(K.leaseExpiry, field)
        unlinkLease(K, member, field)
      end
    end
    unqueue(base, K, rec, member)
    if keepRecord then
      hdel(phones, phone)
    else
      forget(base, rec, member)
    end
    replyRemoved(reply, phone, rec[R_ID], revoked, field)
  end
end
local list = {}
for n = 4, #ARGV do
  list[#list + 1] = ARGV[n]
end
if #list > 0 then
  variadic('SADD', K.suppressed, list)
end
flush()
return reply
