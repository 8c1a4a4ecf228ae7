--[[
  Write-back staging for one script run. Scripts read hashes through `hget` (cached; `hprefetch`
  fetches many fields in one HMGET), write through `hset`/`hdel`/`zadd`/`zrem`, and `flush` sends
  every staged write as one variadic command per key. A batch of N leases then costs a handful
  of commands instead of a dozen per lease, while each item still sees the writes of the items
  before it (reads go through the same cache), so batch semantics stay sequential.

  Sorted-set writes are staged, never read back: a script that reads a sorted set it has
  written must `flush` first.
]]
local hcache = {} -- key -> field -> value, or false when the field is absent
local hdirty = {} -- key -> field -> true
local hkeys = {} -- dirty hash keys, in first-write order
local zstaged = {} -- key -> member -> score string, or false for a removal
local zorder = {} -- key -> members in first-write order
local zkeys = {}
local emptied = {} -- sorted-set key -> callback run after flush when the key no longer exists

local function cacheOf(key)
  local c = hcache[key]
  if not c then
    c = {}
    hcache[key] = c
  end
  return c
end

local function hget(key, field)
  local c = cacheOf(key)
  local v = c[field]
  if v == nil then
    v = redis.call('HGET', key, field)
    c[field] = v
  end
  if v == false then
    return nil
  end
  return v
end

-- Load many fields of one hash into the cache with a single HMGET.
local function hprefetch(key, fields)
  local c = cacheOf(key)
  local want = {}
  local seen = {}
  for _, f in ipairs(fields) do
    if c[f] == nil and not seen[f] then
      seen[f] = true
      want[#want + 1] = f
    end
  end
  for s = 1, #want, 4000 do
    local part = { unpack(want, s, math.min(s + 3999, #want)) }
    local values = redis.call('HMGET', key, unpack(part))
    for i, f in ipairs(part) do
      c[f] = values[i]
    end
  end
end

local function markDirty(key, field)
  local d = hdirty[key]
  if not d then
    d = {}
    hdirty[key] = d
    hkeys[#hkeys + 1] = key
  end
  d[field] = true
end

local function hset(key, field, value)
  cacheOf(key)[field] = value
  markDirty(key, field)
end

local function hdel(key, field)
  cacheOf(key)[field] = false
  markDirty(key, field)
end

local function zstage(key, member, score)
  local s = zstaged[key]
  if not s then
    s = {}
    zstaged[key] = s
    zorder[key] = {}
    zkeys[#zkeys + 1] = key
  end
  if s[member] == nil then
    local o = zorder[key]
    o[#o + 1] = member
  end
  s[member] = score
end

local function zadd(key, score, member)
  zstage(key, member, score)
end

local function zrem(key, member)
  zstage(key, member, false)
end

-- Run `fn` after the next flush if sorted set `key` is then empty (e.g. drop an agent from the
-- set of agents with pinned callbacks once its last one is gone).
local function whenEmptied(key, fn)
  emptied[key] = fn
end

local function variadic(command, key, args)
  for s = 1, #args, 4000 do
    redis.call(command, key, unpack(args, s, math.min(s + 3999, #args)))
  end
end

local function flush()
  for _, key in ipairs(hkeys) do
    local c = hcache[key]
    local sets, dels = {}, {}
    for field in pairs(hdirty[key]) do
      local v = c[field]
      if v then
        sets[#sets + 1] = field
        sets[#sets + 1] = v
      else
        dels[#dels + 1] = field
      end
    end
    if #sets > 0 then
      variadic('HSET', key, sets)
    end
    if #dels > 0 then
      variadic('HDEL', key, dels)
    end
  end
  hdirty, hkeys = {}, {}
  for _, key in ipairs(zkeys) do
    local s = zstaged[key]
    local adds, rems = {}, {}
    for _, member in ipairs(zorder[key]) do
      local score = s[member]
      if score then
        adds[#adds + 1] = score
        adds[#adds + 1] = member
      else
        rems[#rems + 1] = member
      end
    end
    if #rems > 0 then
      variadic('ZREM', key, rems)
    end
    if #adds > 0 then
      variadic('ZADD', key, adds)
    end
  end
  zstaged, zorder, zkeys = {}, {}, {}
  for key, fn in pairs(emptied) do
    if redis.call('EXISTS', key) == 0 then
      fn()
    end
  end
  emptied = {}
end
