--[[
  Lease the next lead for one agent: its due pinned callbacks first, then the best ready lead
  across the zones whose calling window is open now; a lead whose number is suppressed is
  dropped, never offered, and one the per-number calling rules hold back waits, scheduled, until
  they allow it (includes/rules.lua). Promotes due scheduled leads first. Nothing is leased from a queue
  that may have gone back in time (includes/run.lua).

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] now (ms)
  ARGV[3] offer TTL (ms)
  ARGV[4] agent id
  ARGV[5] device id
  ARGV[6] promote at most this many due scheduled leads first

  Returns { epoch } when nothing is dialable, { epoch, 7 lease fields (see dispatch) } when
  leased, or CAMPAIGN_UNKNOWN / CAMPAIGN_STALE / AGENT_BUSY (the agent already holds a live
  lease).
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"
--- @include "run"

local base, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local agent, device, promoteLimit = ARGV[4], ARGV[5], tonumber(ARGV[6])

local epoch = hget(K.cfg, 'epoch')
if not epoch then
  return ST_CAMPAIGN_UNKNOWN
end
local run = checkRun(K.cfg)
if run ~= ST_OK then
  return run
end
if liveLeaseOf(K, agent, redis.call('ZSCORE', K.agents, agent)) then
  return ST_AGENT_BUSY
end

if promoteDue(base, K, now, promoteLimit) > 0 then
  flush()
end
local open = openZoneSet(K.windows, now)
local anySuppressed = redis.call('SCARD', K.suppressed) > 0
local member = nil
if redis.call('SISMEMBER', K.pinnedAgents, agent) == 1 then
  member = popPinned(base, K, open, agent, now)
  if member and not (dialable(base, K, member, anySuppressed) and not heldByRules(base, K, member, now)) then
    member = nil
  end
end
local pinned = member ~= nil
local picker = newPicker(base, open, 1)
while not member do
  member = popReady(picker)
  if not member then
    break
  end
  if not (dialable(base, K, member, anySuppressed) and not heldByRules(base, K, member, now)) then
    member = nil
  end
end
if member and not allRecorded(base, { member }) then
  return damaged(K)
end
local reply = { epoch }
if member then
  grant(base, K, member, agent, device, now, ttl, pinned, zoneNameMap(K), epoch, reply)
end
flush()
return reply
