--[[
  Remove every queued lead with one of the given numbers (do-not-call, erasure), wherever it is:
  ready, scheduled, pinned or under a live lease (the lease is revoked and reported so the
  device can be told), and suppress the numbers in this campaign: an enqueue never queues them
  again. Once this returns, none of these numbers can be offered.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2...] phone digits (E.164 without "+")

  Returns { epoch, then 5 fields per removed lead: phone digits, lead id, revoked lease counter,
  agent, device ('' when no live lease) }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base = ARGV[1]
local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }

for n = 2, #ARGV do
  local phone = ARGV[n]
  local member = hget(phoneKey(base, phone), phone)
  if member then
    local rec = splitRecord(record(base, member))
    unqueue(base, K, rec, member)
    local revoked, agent, device = '', '', ''
    local counter = hget(K.leaseOf, member)
    if counter then
      local lease = splitLease(hget(K.leases, counter))
      local state = lease[L_STATE]
      if state == 'o' or state == 'a' then
        revoked, agent, device = counter, lease[L_AGENT], lease[L_DEVICE]
        releaseLive(K, counter, agent)
      else
        zrem(K.tombstones, counter)
      end
      hdel(K.leases, counter)
      hdel(K.leaseOf, member)
    end
    forget(base, rec, member)
    reply[#reply + 1] = phone
    reply[#reply + 1] = rec[R_ID]
    reply[#reply + 1] = revoked
    reply[#reply + 1] = agent
    reply[#reply + 1] = device
  end
end
local phones = {}
for n = 2, #ARGV do
  phones[#phones + 1] = ARGV[n]
end
if #phones > 0 then
  variadic('SADD', K.suppressed, phones)
end
flush()
return reply
