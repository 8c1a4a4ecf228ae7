--[[
  Read one lease as it stands (a reconnecting device resumes its call from it).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] lease epoch
  ARGV[3] lease counter

  Returns { OK, lease record, lead id ('' if unknown) } or { negative status }.
]]
--- @include "campaign-keys"
--- @include "keys"
--- @include "lease"

local status, lease = findLease(K.cfg, K.leases, ARGV[2], ARGV[3], '')
if status ~= ST_OK then
  return { status }
end
local leadId = ''
local rec = redis.call('HGET', recordKey(ARGV[1], lease[L_MEMBER]), lease[L_MEMBER])
if rec then
  leadId = splitRecord(rec)[R_ID]
elseif lease[L_STATE] == 'd' then
  leadId = string.match(lease[L_RESULT], '^[^|]*|[^|]*|[^|]*|([^|]*)|') or ''
end
return { ST_OK, joinLease(lease), leadId }
