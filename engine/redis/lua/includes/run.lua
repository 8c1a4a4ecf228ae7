--- @include "status"
--- @include "stage"
--[[
  Did this Redis keep every write the campaign's epoch was issued under? The epoch records the
  run id of the server it was issued on. A different run id means the server restarted (from an
  AOF or snapshot that may miss its last writes) or a replica took over (it may lag): the queue
  may have gone back in time (lease counters issued again, completed or removed leads back in
  the queue), so it is marked stale and nothing more is leased from it until it has been rebuilt
  from the system of record (rebuildReset clears the mark and starts a new epoch).
  Call it first in a script (it flushes its own write). Returns ST_OK or ST_CAMPAIGN_STALE.
]]
local function runId()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end

local function checkRun(cfgKey)
  if hget(cfgKey, 'stale') == '1' then
    return ST_CAMPAIGN_STALE
  end
  local current = runId()
  local recorded = hget(cfgKey, 'rid')
  if recorded == current then
    return ST_OK
  end
  hset(cfgKey, 'rid', current)
  local status = ST_OK
  if recorded then
    hset(cfgKey, 'stale', '1')
    status = ST_CAMPAIGN_STALE
  end
  flush()
  return status
end
