--[[
  The campaign key set, passed as KEYS[1..14] by scripts that work on a whole campaign
  (engine/redis/script-keys.ts builds it in this order):
    KEYS[1]  cfg            hash  config: policies o:<code>, window JSON, version v, epoch, counters seq/lseq/zseq
    KEYS[2]  zones          hash  zone key -> zone index
    KEYS[3]  zoneNames      hash  zone index -> zone key
    KEYS[4]  windows        hash  zone index -> encoded window
    KEYS[5]  scheduled      zset  member -> due (ms)
    KEYS[6]  pinnedAgents   set   agents with pinned callbacks
    KEYS[7]  leases         hash  lease counter -> lease record
    KEYS[8]  leaseExpiry    zset  live lease counter -> expiry (ms); tombstone -> TOMBSTONE_BAND + purge time (lease.lua)
    KEYS[9]  tombstones     zset  legacy: tombstones of campaigns written before they moved into leaseExpiry (purged only)
    KEYS[10] agents         zset  ready agent -> idle since (ms)
    KEYS[11] agentDevices   hash  ready agent -> device
    KEYS[12] agentLeases    hash  agent -> counter of its live lease
    KEYS[13] leaseOf        hash  lead member -> counter of its live or expired-and-requeued lease
    KEYS[14] suppressed     set   phone digits this campaign must never queue again (do-not-call, erased)
]]
local K = {
  cfg = KEYS[1],
  zones = KEYS[2],
  zoneNames = KEYS[3],
  windows = KEYS[4],
  scheduled = KEYS[5],
  pinnedAgents = KEYS[6],
  leases = KEYS[7],
  leaseExpiry = KEYS[8],
  tombstones = KEYS[9],
  agents = KEYS[10],
  agentDevices = KEYS[11],
  agentLeases = KEYS[12],
  leaseOf = KEYS[13],
  suppressed = KEYS[14],
}
