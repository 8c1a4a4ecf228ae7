--[[
  Second step of a rebuild: attach again the calls in progress that live sessions hold, whose
  leases the queue may have lost, then let leasing resume. Each held call's lead was queued by
  the rebuild just before (from the system of record); it leaves the queue and gets its lease
  back under the lease's own epoch and counter, in the phase the call had reached, so it is
  offered to no one else, the device can resume it, and its outcome completes it as usual. A lead
  already under a live lease (the queue kept that lease) is left as it is.

  KEYS[1..14]: the campaign key set (includes/campaign-keys.lua)
  ARGV[1] key base of the campaign
  ARGV[2] number of held calls N, then N groups of 8: lease epoch, lease counter, agent, device,
          state (o offered, a dialling, n on the call, w ended), expiry (ms), lead id, phone digits

  Returns the number of calls attached, or CAMPAIGN_UNKNOWN.
]]
--- @include "status"
--- @include "campaign-keys"
--- @include "queue"

local base, count = ARGV[1], tonumber(ARGV[2])
local current = hget(K.cfg, 'epoch')
if not current then
  return ST_CAMPAIGN_UNKNOWN
end

local attached = 0
for n = 0, count - 1 do
  local a = 3 + n * 8
  local epoch, counter, agent, device = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local state, expires, leadId, phone = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local member = hget(phoneKey(base, phone), phone)
  local raw = member and record(base, member)
  if raw and splitRecord(raw)[R_ID] == leadId then
    local previous = currentLease(K, member)
    local prev = previous and hget(K.leases, previous)
    if not (prev and LIVE[string.sub(prev, 1, 1)]) then
      if previous then
        hdel(K.leases, previous)
        zrem(K.leaseExpiry, previous)
      end
      local field = counter
      if epoch ~= current then
        field = epoch .. ':' .. counter
      end
      unqueue(base, K, splitRecord(raw), member)
      hset(K.leases, field, joinLease({ state, member, agent, device, expires, '', epoch, '' }))
      hset(K.leaseOf, member, field)
      zadd(K.leaseExpiry, expires, field)
      if not liveLeaseOf(K, agent, redis.call('ZSCORE', K.agents, agent)) then
        hset(K.agentLeases, agent, field)
        anyAttached = true -- staged, not yet in Redis: the next held call of this agent sees it
      end
      attached = attached + 1
    end
  end
end
flush()
redis.call('HDEL', K.cfg, 'stale')
redis.call('HINCRBY', K.cfg, 'rg', 1) -- rebuilds ended (rebuildReset's ARGV[3])
return attached
