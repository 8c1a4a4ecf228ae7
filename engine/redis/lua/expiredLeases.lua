--[[
  Live leases past their expiry, not reclaimed yet (read-only): what the reaper must settle
  against the system of record before requeueing anything.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] at most this many

  Returns { epoch, then 6 fields per lease: field, state, agent, device, lead id ('' if the
  lead's record is gone), epoch it was issued in }, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "keys"
--- @include "lease"

local base, now, limit = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local epoch = redis.call('HGET', K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local reply = { epoch }
for _, field in ipairs(redis.call('ZRANGEBYSCORE', K.leaseExpiry, '-inf', int(now), 'LIMIT', 0, limit)) do
  local raw = redis.call('HGET', K.leases, field)
  if raw then
    local lease = splitLease(raw)
    local rec = redis.call('HGET', recordKey(base, lease[L_MEMBER]), lease[L_MEMBER])
    reply[#reply + 1] = field
    reply[#reply + 1] = lease[L_STATE]
    reply[#reply + 1] = lease[L_AGENT]
    reply[#reply + 1] = lease[L_DEVICE]
    reply[#reply + 1] = rec and splitRecord(rec)[R_ID] or ''
    reply[#reply + 1] = lease[L_EPOCH]
  end
end
return reply
