--[[
  The device declines its offer (or gives up a call before it connects): the lead goes back to
  the head of its priority with no attempt counted, and the lease is gone (a later completion of
  it is stale).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] lease epoch
  ARGV[3] lease counter
  ARGV[4] agent id ('' = any)

  Returns OK or a negative status: LEASE_EXPIRED when the lead is already back in the queue,
  LEASE_STALE when the lease is being completed, done, revoked or void.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, counter, agent = ARGV[1], ARGV[3], ARGV[4]
local status, lease, field = findLease(K.cfg, K.leases, ARGV[2], counter, agent)
if status ~= ST_OK then
  return status
end
local state = lease[L_STATE]
if state == 'x' then
  return ST_LEASE_EXPIRED -- already back in the queue
end
if state == 'c' or not LIVE[state] then
  return ST_LEASE_STALE
end
local member = lease[L_MEMBER]
local rec = splitRecord(record(base, member))
if isSuppressed(K, rec) then
  forget(base, rec, member)
else
  requeueHead(base, K, rec, member)
end
hdel(K.leases, field)
unlinkLease(K, member, field)
releaseLive(K, field)
flush()
return ST_OK
