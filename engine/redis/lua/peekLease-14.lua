--[[
  Read one lease as it stands (the gateway checks fencing before committing an outcome).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] lease epoch
  ARGV[3] lease counter

  Returns { OK, lease record, lead id ('' if the lead has left the queue) } or { negative status }.
]]
--- @include "campaign-keys"
--- @include "keys"
--- @include "lease"

local status = epochStatus(K.cfg, ARGV[2])
if status ~= ST_OK then
  return { status }
end
local raw = hget(K.leases, ARGV[3])
if not raw then
  return { missingLease(K.cfg, ARGV[3]) }
end
local lease = splitLease(raw)
local leadId = ''
local rec = redis.call('HGET', recordKey(ARGV[1], lease[L_MEMBER]), lease[L_MEMBER])
if rec then
  leadId = splitRecord(rec)[R_ID]
elseif lease[L_STATE] == 'd' then
  local result = lease[L_RESULT]
  local parts = {}
  for v in string.gmatch(result, '[^|]+') do
    parts[#parts + 1] = v
  end
  leadId = parts[4] or ''
end
return { ST_OK, raw, leadId }
