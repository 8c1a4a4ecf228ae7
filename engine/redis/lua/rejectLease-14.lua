--[[
  The device declines its offer (or gives up a call before dialling): the lead goes back to the
  head of its priority with no attempt counted, and the lease is gone (a later completion of it
  is stale).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] lease epoch
  ARGV[3] lease counter
  ARGV[4] agent id ('' = any)

  Returns OK or a negative status.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, counter, agent = ARGV[1], ARGV[3], ARGV[4]
local status, lease = findLease(K.cfg, K.leases, ARGV[2], counter, agent)
if status ~= ST_OK then
  return status
end
if lease[L_STATE] == 'd' then
  return ST_LEASE_STALE
end
if lease[L_STATE] == 'x' then
  return ST_LEASE_EXPIRED -- already back in the queue
end
local member = lease[L_MEMBER]
requeueHead(base, K, splitRecord(record(base, member)), member)
hdel(K.leases, counter)
hdel(K.leaseOf, member)
releaseLive(K, counter, lease[L_AGENT])
flush()
return ST_OK
